// Scenario configuration schemas: the single source of the request, message and stored config types.
import { z } from "zod";

/** Ids that reach Redis keys, SQL and logs: no globs, spaces or separators beyond these. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const Id = z
  .string()
  .regex(ID_PATTERN, "must be 1-128 characters of A-Z a-z 0-9 . _ : -");

/** The seed used when a config names none. */
export const DEFAULT_SEED = "scenario-matrix-cache/default-seed";
/** The taxonomy version used when a request names none. */
export const DEFAULT_TAXONOMY_VERSION = "v1";
/** numScenarios when a warm config omits it; simulate uses `runs` instead. */
export const DEFAULT_NUM_SCENARIOS = 10_000;

const finite = () => z.number().refine(Number.isFinite, "must be a finite number");

/**
 * Domain bounds. Every numeric input has a finite range a fund model could need, so no loop or
 * allocation in key computation or generation depends on an unbounded value.
 */
export const LIMITS = {
  /** MOIC medians and p90s: 0.001x (a near-total loss) to 1000x / 5000x */
  minMoic: 0.001,
  maxMedian: 1000,
  maxP90: 5000,
  /** years: a quarter is the shortest holding period or lifetime a fund model schedules */
  minYears: 0.25,
  maxYears: 50,
} as const;

/** Recycling cycles at the schema's bounds: floor(maxYears / minYears) − 1. */
export const MAX_RECYCLING_CYCLES = Math.floor(LIMITS.maxYears / LIMITS.minYears) - 1;

export const MoicCalibration = z
  .object({
    median: finite().pipe(z.number().min(LIMITS.minMoic).max(LIMITS.maxMedian)),
    p90: finite().pipe(z.number().min(LIMITS.minMoic).max(LIMITS.maxP90)),
  })
  .superRefine((c, ctx) => {
    if (c.p90 < c.median) {
      ctx.addIssue({ code: "custom", path: ["p90"], message: "p90 must be >= median" });
    } else if (c.p90 / c.median >= 5) {
      // The Pareto tail exponent is ln 5 / ln(p90/median); it must exceed 1 for a finite mean.
      ctx.addIssue({ code: "custom", path: ["p90"], message: "p90/median must be < 5 (tail exponent > 1)" });
    }
  });

export const BucketConfig = z.object({
  name: z.string().trim().min(1, "must not be empty").max(100),
  /** percent of committed capital; all buckets sum to 100 ± 0.01 */
  capitalAllocation: finite().pipe(z.number().min(0).max(100)),
  moicCalibration: MoicCalibration,
});
export type BucketConfig = z.infer<typeof BucketConfig>;

export const WEIGHT_SUM_TOLERANCE = 1e-6;
export const CorrelationWeights = z
  .object({
    macro: finite().pipe(z.number().min(0).max(1)),
    systematic: finite().pipe(z.number().min(0).max(1)),
    idiosyncratic: finite().pipe(z.number().min(0).max(1)),
  })
  .superRefine((w, ctx) => {
    const sum = w.macro + w.systematic + w.idiosyncratic;
    if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) {
      ctx.addIssue({ code: "custom", path: [], message: `weights must sum to 1 (got ${sum})` });
    }
  });
export type CorrelationWeights = z.infer<typeof CorrelationWeights>;

export const DEFAULT_CORRELATION_WEIGHTS: CorrelationWeights = { macro: 0.3, systematic: 0.3, idiosyncratic: 0.4 };

/** Disabled recycling needs only `enabled: false`; other fields are accepted and ignored. */
export const RecyclingConfig = z.discriminatedUnion("enabled", [
  z.object({ enabled: z.literal(false), mode: z.literal("same-bucket").optional() }),
  z.object({
    enabled: z.literal(true),
    mode: z.literal("same-bucket").default("same-bucket"),
    reinvestmentRate: finite().pipe(z.number().min(0).max(1)),
    /** years, 0.25..50: bounds the number of recycling cycles (MAX_RECYCLING_CYCLES) */
    avgHoldingPeriod: finite().pipe(z.number().min(LIMITS.minYears).max(LIMITS.maxYears)),
    /** years, 0.25..50 */
    fundLifetime: finite().pipe(z.number().min(LIMITS.minYears).max(LIMITS.maxYears)),
  }),
]);
export type RecyclingConfig = z.infer<typeof RecyclingConfig>;

/** Seed, Series A, Series B: used when `buckets` is omitted or empty (the original plan's sample). */
export const DEFAULT_BUCKETS: readonly BucketConfig[] = [
  { name: "Seed", capitalAllocation: 40, moicCalibration: { median: 1.0, p90: 3.0 } },
  { name: "Series A", capitalAllocation: 35, moicCalibration: { median: 1.5, p90: 3.5 } },
  { name: "Series B", capitalAllocation: 25, moicCalibration: { median: 2.0, p90: 4.0 } },
];

export const ALLOCATION_SUM_TOLERANCE = 0.01;
export const MAX_BUCKETS = 50;
export const MAX_SCENARIOS = 100_000;

const Buckets = z
  .array(BucketConfig)
  .max(MAX_BUCKETS)
  .optional()
  .transform((b) => (b === undefined || b.length === 0 ? DEFAULT_BUCKETS.map((x) => ({ ...x })) : b))
  .superRefine((buckets, ctx) => {
    const seen = new Map<string, number>();
    buckets.forEach((b, i) => {
      const prior = seen.get(b.name);
      if (prior !== undefined) {
        ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate bucket name (also at ${prior})` });
      }
      seen.set(b.name, i);
    });
    const sum = buckets.reduce((s, b) => s + b.capitalAllocation, 0);
    if (Math.abs(sum - 100) > ALLOCATION_SUM_TOLERANCE) {
      ctx.addIssue({ code: "custom", path: [], message: `capitalAllocation must sum to 100 ± 0.01 (got ${sum})` });
    }
  });

const Seed = z
  .union([z.string().min(1).max(256), z.number().int().safe()])
  .transform((s) => String(s))
  .default(DEFAULT_SEED);

export const ScenarioConfig = z.object({
  numScenarios: z.number().int().min(1).max(MAX_SCENARIOS).default(DEFAULT_NUM_SCENARIOS),
  buckets: Buckets,
  correlationWeights: CorrelationWeights.default(DEFAULT_CORRELATION_WEIGHTS),
  recycling: RecyclingConfig.default({ enabled: false }),
  seed: Seed,
});
/** A validated config with defaults applied. */
export type ScenarioConfig = z.output<typeof ScenarioConfig>;
/** What a client may send. */
export type ScenarioConfigInput = z.input<typeof ScenarioConfig>;

export const ScenarioConfigWithMeta = ScenarioConfig.extend({
  fundId: Id,
  taxonomyVersion: Id.default(DEFAULT_TAXONOMY_VERSION),
});
export type ScenarioConfigWithMeta = z.output<typeof ScenarioConfigWithMeta>;
export type ScenarioConfigWithMetaInput = z.input<typeof ScenarioConfigWithMeta>;
