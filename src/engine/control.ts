// The control block at the start of the shared memory: Int32 words the threads
// synchronize on, each hot word alone on its 64-byte line (16 Int32s apart) so that
// spinning on one never invalidates another (false sharing measured 3.5× slower).
// Float64 cells for the numbers the threads hand each other between barriers follow.

export const CONTROL_INTS = 16 * 24;
const line = (n: number) => n * 16;

// Barrier.
export const kBarrierCount = line(0);
export const kBarrierGeneration = line(1);
// Fault handling: set once by the first thread that fails (or by the coordinator).
export const kAbort = line(2);
export const kFailedRank = line(3);
export const kFailedStep = line(4);
// Rank handed out to each long-lived task as it starts.
export const kRankCounter = line(5);
// Commands from the coordinator: it writes the arguments, then bumps kCommandSeq.
export const kCommandSeq = line(6);
export const kCommandType = line(7);
export const kArgEpoch = line(8);
export const kArgStepFrom = line(9);
export const kArgStepTo = line(10);
export const kArgSplit = line(11);
// Threads that finished the current command; the coordinator waits on it.
export const kDone = line(12);
// Progress: steps finished in the current epoch (the coordinator polls it).
export const kStep = line(13);
// Set by the coordinator (SIGINT, cancel): stop at the next step boundary.
export const kStopRequest = line(14);
// Why the last command ended early: 0 none, 1 stop request, 2 diverged.
export const kHalt = line(15);
export const kHaltStep = line(16);
// Threads that have started and are ready for commands.
export const kReady = line(17);

export const HALT_NONE = 0;
export const HALT_STOP = 1;
export const HALT_DIVERGED = 2;

export const CMD_TRAIN = 1;
export const CMD_EVAL = 2;
export const CMD_EXIT = 3;

// Float64 cells.
export const cEpochLossSum = 0;
export const cEpochCorrect = 1;
export const cEpochRows = 2;
export const cPlateauScale = 3;
export const cLastLr = 4;
export const cLastLoss = 5;
export const cGradScale = 6;
export const cDivergedLoss = 7;

// Benchmark timing (RunSettings.timing, off in training): each rank below TIMING_RANKS
// accumulates milliseconds per phase in its own block of TIMING_SLOTS cells (two 64-byte
// lines, so ranks never share a line). Laps are contiguous: T_GATHER … T_SERIAL add up to
// T_STEP_MS. A barrier slot holds waiting only; the serial section a thread runs as the
// last arriver is charged to T_SERIAL.
export const cTimingBase = 16;
export const TIMING_RANKS = 16;
export const TIMING_SLOTS = 16;
export const T_STEPS = 0;
export const T_STEP_MS = 1;
export const T_GATHER = 2;
export const T_ROWS = 3;
export const T_WAIT_ROWS = 4;
export const T_REDUCE = 5;
export const T_NORM = 6;
export const T_WAIT_NORM = 7;
export const T_UPDATE = 8;
export const T_TRANSPOSE = 9;
export const T_WAIT_UPDATE = 10;
export const T_SERIAL = 11;
// Counts: barrier waits (serial sections excluded) longer than 10 µs — past the barrier's
// ~9 µs spin, so the thread slept in Atomics.wait — longer than 50 µs, and all barriers.
export const T_WAITS_OVER_10US = 12;
export const T_WAITS_OVER_50US = 13;
export const T_BARRIERS = 14;
export const timingCell = (rank: number, slot: number): number => cTimingBase + rank * TIMING_SLOTS + slot;

export const CELLS = cTimingBase + TIMING_RANKS * TIMING_SLOTS;
