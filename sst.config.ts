/// <reference path="./.sst/platform/config.d.ts" />
// Composes the infrastructure from stacks/ (one concern per file). The SST CLI refuses top-level value
// imports here, so each stack is loaded inside run(); stage-level knobs live in stacks/settings.ts.

export default $config({
  app(input) {
    return {
      name: "scenario-matrix-cache",
      home: "aws",
      // Production keeps its data stores and refuses `sst remove`; other stages clean up after themselves.
      removal: input?.stage === "production" ? "retain" : "remove",
      protect: input?.stage === "production",
    };
  },
  async run() {
    const { settingsFor } = await import("./stacks/settings");
    const { createSecrets } = await import("./stacks/secrets");
    const { createQueues } = await import("./stacks/queues");
    const { createApi } = await import("./stacks/api");
    const { createGenerators } = await import("./stacks/generator");
    const { createSchedules } = await import("./stacks/schedule");
    const { createMonitoring } = await import("./stacks/monitoring");

    const settings = settingsFor($app.stage);
    const secrets = createSecrets();
    const queues = createQueues(settings);
    const ctx = { settings, secrets, queues };
    const api = createApi(ctx);
    const generators = createGenerators(ctx);
    const schedules = createSchedules(ctx);
    const monitoring = createMonitoring({ settings, queues, api, generators, schedules });

    return {
      api: api.api.url,
      warmHighQueue: queues.high.url,
      warmLowQueue: queues.low.url,
      alarmTopic: monitoring.topic.arn,
      dashboard: monitoring.dashboard.dashboardName,
    };
  },
});
