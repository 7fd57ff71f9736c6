// strftime_now must be deterministic: freeze the clock at one instant (the C# tests inject the same one).
// Local time is UTC (Node honours TZ set at run time; running with TZ=UTC does the same).
process.env.TZ = "UTC";
export const FIXED_NOW = Date.UTC(2026, 6, 4, 9, 5, 0); // 2026-07-04T09:05:00Z
export const RealDate = Date;

globalThis.Date = class extends RealDate {
  constructor(...args) {
    super(...(args.length === 0 ? [FIXED_NOW] : args));
  }

  static now() {
    return FIXED_NOW;
  }
};
