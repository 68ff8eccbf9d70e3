// mmemu's public API.
export { Mmu, type Address, type AccessKind, type Translation, type Registers, type FrameOptions } from "./mmu.js";
export { Machine, type MachineCreateOptions, type CpuJob, type TimedCpuResult } from "./machine.js";
export { PageTableBuilder, TABLE_FLAGS, type PageSize } from "./pagetable.js";
export type { MachineOptions, MmOptions } from "./options.js";
export * from "./arch/x86.js";
export {
  MmemuError, ConfigError, ErrnoError, InvariantError, LockdepError, CpuStuckError, CpuDiedError, MachineDestroyedError,
  StaleTlbError, MmInvariantError, type StaleTlbKind, type CpuActivity,
} from "./core/errors.js";
export type { CpuStats } from "./core/cpu-state.js";
export type { CoreExports, CoreFunction } from "./core/abi.js";
// Virtual time: every CPU a coroutine of one instance, timed or explore mode (src/sched/).
export { VirtualMachine, type VirtualMachineOptions, type RunResult, type CpuRunResult } from "./sched/virtual-machine.js";
export type { RunOptions } from "./sched/run-options.js";
export type { ExploreOptions, ExploreResult, ExploreFailure } from "./sched/explore.js";
export type { JobSpec } from "./sched/jobs.js";
export { DeadlockError, StepLimitError } from "./core/errors.js";
// The cost model of virtual time: profiles, their validation and the shipped default; calibration.
export {
  COST_NAMES, loadProfile, parseProfile, applyProfile, profileToJson, cyclesByName, type CostName, type CostProfile, type CostConstant,
} from "./cost/profile.js";
export { DEFAULT_PROFILE } from "./cost/default-profile.js";
export { calibrate, formatCalibration, type CalibrateOptions, type CalibrationResult } from "./cost/calibrate.js";
// Address spaces: /proc/pid/maps of an emulated mm.
export { readVmas, formatMaps, type VmaInfo, type MapsOptions, type MapsSource } from "./mm/maps.js";
// Processes (the MM core from the host): the process API, with Linux return conventions.
export {
  MmModel, Process, KThread, PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC, MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS,
  MADV_DONTNEED, TLB_FLUSH_CAUSES, type MmFile, type MmapOptions, type OnCpu, type MmModelOptions, type TlbFlushStats,
  type TlbFlushCounts, type TlbFlushCause,
} from "./mm/process.js";
export { MmuNotifier, type MmuNotifierCounts, type MmuNotifierEvent, type MmuNotifierEventKind } from "./mm/notifier.js";
export { checkMmInvariants, type MmCheckResult } from "./mm/check.js";
// Experiments (issue 5): eras as data, and AIM9 brk_test / page_test in virtual time.
export { ERAS, ERA_NAMES, ERA_LOCK_CLASSES, era, eraMachineOptions, type Era, type EraOverrides } from "./experiments/eras.js";
export {
  runAim9Brk, formatAim9Brk, aim9Ok, AIM9_RUN_FIELDS, type Aim9BrkOptions, type Aim9BrkResult, type Aim9Run, type Aim9LockStat,
  type Aim9Ratio, type Aim9Workload, type Aim9Shape,
} from "./experiments/aim9-brk.js";
export {
  runRmapLocks, formatRmapLocks, rmapOk, RMAP_LOCKS_RUN_FIELDS, RMAP_LOCK_CONFIGS, RMAP_LOCK_CONFIG_NAMES, RMAP_LOCKS_BASE_ERA, RMAP_DEFAULT_TREES, treeSize,
  type RmapLocksOptions, type RmapLocksResult, type RmapLocksRun, type RmapLockStat, type RmapLockConfig, type RmapTree,
} from "./experiments/rmap-locks.js";
export {
  runForkServer, formatForkServer, forkServerOk, FORK_SERVER_RUN_FIELDS, FORK_SERVER_DEFAULT_ERAS, FORK_SERVER_DEFAULT_CPUS,
  FORK_SERVER_DEFAULT_BUDGET, FORK_SERVER_DEFAULT_BUDGET_NS, type ForkServerOptions, type ForkServerResult, type ForkServerRun, type ForkServerRatio, type ForkServerWorkload,
} from "./experiments/fork-server.js";
export {
  runHistory, formatHistory, historyVerdict, HISTORY, HISTORY_IDS, HISTORY_ROW_FIELDS, HISTORY_DEFAULT_CPUS, HISTORY_DEFAULT_BUDGET,
  HISTORY_DEFAULT_BUDGET_NS, type HistoryOptions, type HistoryResult, type HistoryRow, type HistoryComparison, type HistoryMeasurement, type HistoryVerdict, type HistoryWorkload,
} from "./experiments/history.js";
export {
  ParallelMachine, withParallelMachine, checkParallelCpus, parallelDefaultCpus, hostCores, PARALLEL_NOTE,
  type ParallelMachineOptions, type ParallelRunResult, type ParallelCpuResult,
} from "./experiments/parallel.js";
export {
  runWillItScale, formatWillItScale, willItScaleOk, WIS_RUN_FIELDS, WIS_TESTCASES, WIS_SHAPES, WIS_DESCRIPTIONS, WIS_DEFAULT_ERAS,
  type WillItScaleOptions, type WillItScaleResult, type WisRun, type WisScaling, type WisScalingPoint, type WisTlb, type WisTestcase, type WisShape,
} from "./experiments/will-it-scale.js";
