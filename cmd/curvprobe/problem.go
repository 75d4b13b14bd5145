package main

import (
	"io"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe/run"
)

// problemFlags name a trained network and the data to measure it on: the
// flags spectrum and taylor share.
type problemFlags struct {
	model, weights, dataPath, dataFormat string
	subset, batch                        int
	seed                                 uint64
	device                               string
}

// load reads the model, its weights and the data, opens the backend and
// returns the network's Plan at those weights with the data uploaded.
func loadProblem[T kernels.Float](f problemFlags, stderr io.Writer) (*models.Plan[T], *models.Data, error) {
	spec, err := models.LoadSpec(f.model)
	if err != nil {
		return nil, nil, err
	}
	params, err := models.LoadWeights(f.weights, spec)
	if err != nil {
		return nil, nil, err
	}
	ds, err := loadData(f.dataPath, f.dataFormat, f.subset, f.seed)
	if err != nil {
		return nil, nil, err
	}
	be, err := openBackend[T](f.device, stderr)
	if err != nil {
		return nil, nil, err
	}
	p, err := models.Build(be, spec, models.Settings{Batch: f.batch})
	if err != nil {
		return nil, nil, err
	}
	if err := p.SetParams(params); err != nil {
		return nil, nil, err
	}
	d, err := run.Upload(p, ds, f.dataPath)
	if err != nil {
		return nil, nil, err
	}
	return p, d, nil
}
