/**
 * Models from specs that may name a file: `onnx:FILE.onnx` is read here (with readInputFile's
 * checks and one clear error naming the file), the built-in specs are nn/spec.ts's parseModel.
 * The nn layer itself reads no files.
 */
import type { Model } from "../nn/model.ts";
import { onnxModel } from "../nn/onnx.ts";
import { parseModel } from "../nn/spec.ts";
import { readInputFile } from "./files.ts";

const readOnnx = (path: string) => readInputFile(path, "ONNX model");

/** A model from any spec: built-in (mlp:..., cnn:..., resnet:..., vit:...) or onnx:FILE. */
export function loadModel(spec: string): Model {
  return parseModel(spec, { readFile: readOnnx });
}

/** A model from an ONNX file exported by torch.onnx.export (nn/onnx.ts). */
export function loadOnnxModel(path: string): Model {
  return onnxModel(readOnnx(path), path);
}
