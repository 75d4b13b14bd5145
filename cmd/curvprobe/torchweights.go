package main

import (
	"flag"
	"fmt"

	"github.com/curvprobe/curvprobe/models"
)

// inferFlags let --weights alone give the model: its widths and biases
// read from the weights, the activation and loss from --act and --loss.
type inferFlags struct {
	act, loss string
}

func (f *inferFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.act, "act", "", "without --model: the hidden activation (relu tanh sigmoid gelu softplus linear), widths read from --weights")
	fs.StringVar(&f.loss, "loss", "", "without --model: the loss (cross_entropy or mse), widths read from --weights")
}

// given reports whether --act or --loss was given.
func (f inferFlags) given() bool { return f.act != "" || f.loss != "" }

// spec returns the model of the weights file: widths and biases from its
// shapes (a PyTorch state_dict or our NPZ), activation and loss from the
// flags, both required; and the file, open, to read the weights from.
func (f inferFlags) spec(weights string) (models.Spec, *models.WeightsFile, error) {
	if f.act == "" || f.loss == "" {
		return models.Spec{}, nil, fmt.Errorf("--act and --loss are both required to read the model from --weights (or give --model)")
	}
	act, err := models.ParseActivation(f.act)
	if err != nil {
		return models.Spec{}, nil, fmt.Errorf("--act: %w", err)
	}
	loss, err := models.ParseLoss(f.loss)
	if err != nil {
		return models.Spec{}, nil, fmt.Errorf("--loss: %w", err)
	}
	w, err := models.OpenWeights(weights)
	if err != nil {
		return models.Spec{}, nil, fmt.Errorf("--weights %s: %w", weights, err)
	}
	spec, err := w.InferSpec(act, loss)
	if err != nil {
		w.Close()
		return models.Spec{}, nil, fmt.Errorf("--weights %s: %w", weights, err)
	}
	return spec, w, nil
}
