// Types of scripts/make-schemas.mjs, for the tests that import it.
export declare const ROOT: string;
export declare const SCHEMA_DIR: string;
export declare const SCHEMA_BASE: string;
/** [name, source file, exported type, what writes it] per schema. */
export declare const SCHEMAS: readonly (readonly [string, string, string, string])[];
export declare function makeSchemas(rows?: typeof SCHEMAS): Record<string, Record<string, unknown>>;
export declare function schemaText(schema: unknown): string;
export declare function schemaPath(name: string): string;
