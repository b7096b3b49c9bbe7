/** Scratch: writes n synthetic CIFAR-10 records to DIR. node --import tsx bench/scratch/write-cifar.ts DIR n */
import { writeSyntheticCifar } from "../pyhessian.ts";
writeSyntheticCifar(process.argv[2]!, Number(process.argv[3] ?? 200));
