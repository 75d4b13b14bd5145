package run

import (
	"fmt"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// Upload checks that ds fits the plan's network and hands it to the plan:
// inputs must have Spec.Inputs() features; cross-entropy needs labels in
// [0, outputs); MSE takes targets of width outputs, or labels, which are
// one-hot encoded when there are exactly outputs classes. name is used in
// errors (a file). The samples stay in host memory, where ds holds them,
// and every pass uploads one plan batch at a time (models.NewHostData): the
// backend's memory for data is one batch whatever the dataset's size, and
// ds must not change while the Data is in use.
func Upload[T kernels.Float](p *models.Plan[T], ds *data.Dataset, name string) (*models.Data, error) {
	spec := p.Spec()
	if ds.D != spec.Inputs() {
		return nil, fmt.Errorf("data %s: %d features per sample, but the model's input layer has %d (layers %v)", name, ds.D, spec.Inputs(), spec.Layers)
	}
	switch spec.Loss {
	case models.CrossEntropy:
		if ds.Labels == nil {
			return nil, fmt.Errorf("data %s: cross_entropy needs integer class labels, but y holds %d-wide targets", name, ds.C)
		}
		if ds.Classes > spec.Outputs() {
			return nil, fmt.Errorf("data %s: labels go up to %d but the model has %d outputs", name, ds.Classes-1, spec.Outputs())
		}
		return p.NewHostData(ds.X, ds.N, ds.Labels, nil)
	default:
		targets, c := ds.Targets, ds.C
		if targets == nil {
			if ds.Classes > spec.Outputs() {
				return nil, fmt.Errorf("data %s: mse with class labels needs one output per class: %d classes, %d outputs", name, ds.Classes, spec.Outputs())
			}
			oh := ds.Clone()
			if err := oh.SetClasses(spec.Outputs()); err != nil {
				return nil, fmt.Errorf("data %s: %w", name, err)
			}
			oh = oh.OneHot()
			targets, c = oh.Targets, oh.C
		}
		if c != spec.Outputs() {
			return nil, fmt.Errorf("data %s: targets are %d wide but the model has %d outputs", name, c, spec.Outputs())
		}
		return p.NewHostData(ds.X, ds.N, ds.Labels, targets)
	}
}

// UploadSource checks src like Upload checks a dataset and returns a Data
// reading it from its file one plan batch at a time
// (models.NewSourceData): the host holds one batch of samples, the
// backend another. MSE with class labels reads their one-hot encoding.
// src must stay open while the Data is in use.
func UploadSource[T kernels.Float](p *models.Plan[T], src *data.Source, name string) (*models.Data, error) {
	spec := p.Spec()
	if src.D != spec.Inputs() {
		return nil, fmt.Errorf("data %s: %d features per sample, but the model's input layer has %d (layers %v)", name, src.D, spec.Inputs(), spec.Layers)
	}
	switch spec.Loss {
	case models.CrossEntropy:
		if src.Labels == nil {
			return nil, fmt.Errorf("data %s: cross_entropy needs integer class labels, but y holds %d-wide targets", name, src.C)
		}
		if src.Classes > spec.Outputs() {
			return nil, fmt.Errorf("data %s: labels go up to %d but the model has %d outputs", name, src.Classes-1, spec.Outputs())
		}
	default:
		if src.Targets == nil {
			if src.Classes > spec.Outputs() {
				return nil, fmt.Errorf("data %s: mse with class labels needs one output per class: %d classes, %d outputs", name, src.Classes, spec.Outputs())
			}
			if err := src.SetClasses(spec.Outputs()); err != nil {
				return nil, fmt.Errorf("data %s: %w", name, err)
			}
			src.OneHot()
		}
		if src.C != spec.Outputs() {
			return nil, fmt.Errorf("data %s: targets are %d wide but the model has %d outputs", name, src.C, spec.Outputs())
		}
	}
	return p.NewSourceData(src, src.N, src.Labels != nil)
}
