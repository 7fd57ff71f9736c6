namespace MmServe.Engine.Scheduling;

internal readonly record struct SchedulerStats(int Running, int Waiting);
