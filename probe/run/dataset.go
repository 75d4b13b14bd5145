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
	oneHot, err := checkFit(p.Spec(), name, ds.D, ds.Labels != nil, ds.Classes, ds.Targets != nil, ds.C)
	if err != nil {
		return nil, err
	}
	targets := ds.Targets
	if oneHot {
		oh := ds.Clone()
		if err := oh.SetClasses(p.Spec().Outputs()); err != nil {
			return nil, fmt.Errorf("data %s: %w", name, err)
		}
		targets = oh.OneHot().Targets
	}
	if p.Spec().Loss == models.CrossEntropy {
		return p.NewHostData(ds.X, ds.N, ds.Labels, nil)
	}
	return p.NewHostData(ds.X, ds.N, ds.Labels, targets)
}

// UploadSource checks src like Upload checks a dataset and returns a Data
// reading it one plan batch at a time (models.NewSourceData): from its
// file, the host then holding one batch of samples and the backend
// another, or, for a set in memory (data.FromDataset), as views of its
// samples where they lie (models.ViewSource), unless they are sampled or
// standardised on read. MSE with class labels reads their one-hot encoding
// (held beside the labels for a set in memory). src must stay open while
// the Data is in use.
func UploadSource[T kernels.Float](p *models.Plan[T], src *data.Source, name string) (*models.Data, error) {
	oneHot, err := checkFit(p.Spec(), name, src.D, src.Labels != nil, src.Classes, src.Targets != nil, src.C)
	if err != nil {
		return nil, err
	}
	if oneHot {
		if err := src.SetClasses(p.Spec().Outputs()); err != nil {
			return nil, fmt.Errorf("data %s: %w", name, err)
		}
		src.OneHot()
	}
	return p.NewSourceData(src, src.N, src.Labels != nil)
}

// checkFit checks data of d features, with labels in [0, classes) when
// labels is set and c-wide targets when targets is, against spec (Upload's rules;
// name is used in errors). oneHot reports MSE data whose labels are to be
// one-hot encoded.
func checkFit(spec models.Spec, name string, d int, labels bool, classes int, targets bool, c int) (oneHot bool, err error) {
	if d != spec.Inputs() {
		return false, fmt.Errorf("data %s: %d features per sample, but the model's input layer has %d (layers %v)", name, d, spec.Inputs(), spec.Layers)
	}
	switch {
	case spec.Loss == models.CrossEntropy && !labels:
		return false, fmt.Errorf("data %s: cross_entropy needs integer class labels, but y holds %d-wide targets", name, c)
	case spec.Loss == models.CrossEntropy && classes > spec.Outputs():
		return false, fmt.Errorf("data %s: labels go up to %d but the model has %d outputs", name, classes-1, spec.Outputs())
	case spec.Loss == models.CrossEntropy:
		return false, nil
	case !targets && classes > spec.Outputs():
		return false, fmt.Errorf("data %s: mse with class labels needs one output per class: %d classes, %d outputs", name, classes, spec.Outputs())
	case !targets:
		return true, nil
	case c != spec.Outputs():
		return false, fmt.Errorf("data %s: targets are %d wide but the model has %d outputs", name, c, spec.Outputs())
	}
	return false, nil
}
