package data_test

import (
	"fmt"
	"log"

	"github.com/curvprobe/curvprobe/data"
)

func ExampleDataset_ClassBalanced() {
	d, err := data.GaussianClasses(1000, 8, 3, 2.0, 1)
	if err != nil {
		log.Fatal(err)
	}
	s, err := d.ClassBalanced(100, 7)
	if err != nil {
		log.Fatal(err)
	}
	s = s.Shuffle(7)
	fmt.Println(s.N, s.D, s.ClassCounts())
	fmt.Println(s.Batches(40))
	// Output:
	// 100 8 [34 33 33]
	// [[0 40] [40 80] [80 100]]
}

func ExampleLoad() {
	// A folder is searched for an IDX pair, CIFAR batches, or one data file.
	// (Compiled, not run: the shared data folder may be absent.)
	d, err := data.Load("../../shared/data/mnist", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.N, d.D, d.Classes) // 10000 784 10: the t10k pair
	for _, note := range d.Notes {
		fmt.Println("note:", note)
	}
}
