// Package run drives curvprobe's measurements end to end: it uploads a
// data.Dataset to a models.Plan, computes a spectrum report (loss, gradient
// norm, extreme eigenvalues by Lanczos, trace by Hutchinson, density by
// stochastic Lanczos quadrature, derived metrics, and per layer the top
// eigenvalues of the layer's diagonal block), and runs training with a
// probe on a schedule, writing logs, checkpoints and plots.
//
// Nothing here prints: progress goes to a probe.Recorder, logs to the
// io.Writers and directories the caller names.
//
// The files are: train.go (Train and the training loop), probes.go (the
// curvature probe of a step), checkpoint.go (checkpoints and resume),
// rundir.go (the run directory: names, lock, stale temporaries, summary),
// log.go (the log), csv.go and plots.go (exports).
//
// # The run directory
//
// Train owns RUN_DIR (the --out of `curvprobe train`). Its files, who
// writes them and when:
//
//	RUN_DIR/config.json      the run's TrainConfig as indented JSON; Train, once, before step 0
//	                         (a resume reads it and never rewrites it)
//	RUN_DIR/train.lock       the writer's lock (below); holds "pid N on host H since T"
//	RUN_DIR/log.jsonl        one Record per logged step (probed steps, the last, every
//	                         log_every-th); appended by the loop after each logged step
//	RUN_DIR/checkpoint.json  the last checkpoint: next step, optimizer steps, the NPZ's name,
//	                         the model, the TrainConfig and the backend it was trained with
//	RUN_DIR/ckpt-NNNNNNN.npz the state before step NNNNNNN: params, opt_buf/opt_v (the
//	                         optimizer state), eig and eig_precond (power-iteration warm starts)
//	RUN_DIR/density/step_NNNNNN.json
//	                         the SLQ density of a probed step (probe_density); written by
//	                         the probe before its record is logged, which names it
//	RUN_DIR/weights.npz      the final parameters (models.SaveWeights); when the run ends
//	RUN_DIR/weights.safetensors
//	                         the same in PyTorch's layout (models.SaveSafetensors), with
//	                         weights_format "safetensors"; after weights.npz
//	RUN_DIR/summary.json     the Summary; when the run ends, however it ends (done,
//	                         diverged, failed, interrupted), after weights.npz
//	RUN_DIR/log.csv          log.jsonl as CSV (ExportCSV); after summary.json
//	RUN_DIR/plots/*.png|svg  the figures (PlotRun); after log.csv with TrainOptions.Plot,
//	                         or by `curvprobe plot` at any time
//
// Checkpoints are written every checkpoint_every steps, or, when it is 0,
// at probed steps at least a minute (minCheckpointInterval) after the last
// one, and always when the context is cancelled (SIGINT, SIGTERM) after at
// least one step: an interrupt loses no work, a kill at most that interval.
// A checkpoint writes ckpt-<next>.npz, then checkpoint.json naming it, then
// removes the previous NPZ; a kill between the two leaves an extra NPZ that
// the next checkpoint does not remove, but checkpoint.json always names a
// whole one.
//
// # Atomicity
//
// Every file but the log and the lock is written through
// internal/atomicfile: to a temporary ".<name>.tmp<N>" beside it, synced,
// renamed over the name and the folder synced, so a reader sees the old
// file or the new one, whole. The log is appended instead, one record per
// write(2) with no buffering in this process, so that each logged record
// is in the file (the kernel's page cache; not fsynced) before the next
// step begins, and a reader tailing it sees whole lines except perhaps the
// last. A failed write cuts its partial line back (LogWriter.Write); a
// line cut short by a kill is ignored by ReadLog and dropped by the next
// resume.
//
// # One writer
//
// A run directory has one writer: Train takes an flock on train.lock
// before it writes any file and holds it until the summary,
// weights, CSV and plots are written; a second Train (or a sweep task on
// the same run) fails at once, naming the holder from the file. The lock
// goes with the process however it ends, so a killed writer leaves no
// stale lock (the file stays). On systems without flock (lock_other.go),
// and on file systems that refuse locks, Train proceeds unlocked.
//
// # What a killed writer leaves, and how it is cleaned
//
// A kill leaves: a log whose last line may be cut short, records logged
// after the last checkpoint, perhaps a ckpt NPZ that checkpoint.json no
// longer names, and temporary files of atomic writes in progress. Under
// the lock, Train (new or resumed) removes the temporaries of its own
// files in RUN_DIR and density/ (staleTemp, staleDensityTemp in rundir.go,
// and log.csv.tmp of earlier versions), and nothing else. Temporaries in
// plots/ are left: plotting does not take the lock, so one may be live.
//
// # Resume
//
// TrainOptions.Resume continues the run in RUN_DIR from its last
// checkpoint. It reads config.json and compares it, field by field
// (configChanges), with the TrainConfig recorded in checkpoint.json: any
// change but steps, epochs and checkpoint_every is refused, naming the
// fields, and nothing is changed. The checkpoint's model must equal
// config.json's, and checkpoint.json's step may not pass the run's steps.
// It then loads the NPZ (params and every optimizer state array are
// required, warm starts optional), rewrites log.jsonl (atomically) with
// the records before the checkpoint's step only, so that the steps it
// repeats are logged once, and goes on from there; notes say which records
// before the checkpoint were missing, and whether the backend differs from
// the one that wrote the checkpoint (records may then differ in the last
// digits). Without a checkpoint a resume starts from step 0 with an empty
// log. On the same backend, BLAS and thread count a resumed run's log is
// byte-identical to an uninterrupted one's.
package run
