package run

import (
	"fmt"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// memoryUsage is what a run of c holds (see newTrainer) for train and
// test samples (checkMemory adds the probe set's batch): on the backend the parameters, the gradient,
// power iteration's warm start, a direction and its product, the
// optimizer's state and, for Adam, the preconditioned warm start and the
// diagonal, and with probe_per_layer the layers' warm starts; on the host
// one copy of the parameters (checkpoints); the samples, with SGD's
// shuffled copy of the training set; and passes of plan_batch samples.
func (c *TrainConfig) memoryUsage(train, test int) models.Usage {
	vecs := 5 + c.Optimizer.StateVectors()
	if c.Optimizer.Kind == "adam" {
		vecs += 2
	}
	if c.ProbePerLayer {
		vecs++ // the layers' warm starts, one parameter vector together
	}
	samples := train + test
	if c.Batch > 0 && c.Batch < train {
		samples += train
	}
	rows := c.PlanBatch
	if rows <= 0 {
		rows = models.DefaultBatch
	}
	return models.Usage{Vectors: vecs, HostVectors: 1, Samples: samples, Rows: rows}
}

// generatedSamples returns the number of samples a generator of c makes
// (LoadTrainData), 0 for data from files.
func (c *TrainConfig) generatedSamples() int {
	switch c.Data {
	case "synthetic:gaussian", "synthetic:teacher":
		if c.Subset == 0 {
			return 1000
		}
		return c.Subset
	}
	return 0
}

// CheckModelMemory refuses the model of c when a run of it would not fit
// be's memory even with one sample (the usage of Train, with one sample in
// passes of one: models.SmallestRun, as checkMemory blames the model).
// Commands call it before Train to name the flag or file that gave the
// model; Train checks the whole run before allocating it, naming
// config.json's fields.
func CheckModelMemory[T kernels.Float](be kernels.Memory[T], c *TrainConfig) error {
	_, err := models.CheckMemory(be, c.Model, models.SmallestRun(c.memoryUsage(0, 0)))
	return err
}

// checkMemory refuses a run of c with train training and test test samples
// whose memory (memoryUsage, models.CheckMemoryCulprit) does not fit be,
// naming the field to blame: the model when one sample does not fit,
// plan_batch when one sample per pass would, else the data.
func checkMemory[T kernels.Float](be kernels.Memory[T], c *TrainConfig, train, test int) error {
	// A probe set is read from the training set a batch at a time.
	u := c.memoryUsage(train, test)
	if c.ProbeSet > 0 && c.ProbeSet < train {
		u.Samples += min(c.ProbeSet, u.Rows)
	}
	_, culprit, err := models.CheckMemoryCulprit(be, c.Model, u)
	switch {
	case err == nil:
		return nil
	case culprit == models.CulpritModel:
		return fmt.Errorf("model %s: %w", c.Model.Arch(), err)
	case culprit == models.CulpritRows:
		return fmt.Errorf("plan_batch %d: %w", u.Rows, err)
	case c.generatedSamples() > 0:
		return fmt.Errorf("subset %d of %s: %w", train, c.Data, err)
	}
	return fmt.Errorf("data %s (%d samples with the test and probe sets): %w", c.Data, u.Samples, err)
}
