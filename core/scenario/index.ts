export * from "./config";
export { matrixKey, canonicalEncoding, generatorInput, GENERATOR_VERSION, type GeneratorInput } from "./key";
export { recyclingCycles, recyclingMultiple, recyclingMultiples, RecyclingBoundsError } from "./recycling";
export { generateScenarioMatrix, generateFromInput, paretoLogParams, type GeneratedMatrix } from "./generator";
export { lnUpperTail } from "./normal";
