# curvprobe. `make test` runs every test; `make demo` runs the built-in default.
# The CPU backend loads OpenBLAS at run time when it is installed (Debian:
# libopenblas0), in every build, cgo or not; gonum's pure-Go BLAS otherwise.
# `make TAGS=openblas` links it through gonum's netlib with cgo instead.

GO      ?= go
# CURVPROBE_BLAS=absent (or gonum) makes the tests behave as on a machine
# without OpenBLAS, whatever is installed: CI's newcomer pass.
NO_OPENBLAS  := $(filter absent gonum,$(CURVPROBE_BLAS))
OPENBLAS_RT  := $(if $(NO_OPENBLAS),,$(shell (ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0 ') && echo yes))
OPENBLAS_DEV := $(if $(NO_OPENBLAS),,$(shell (ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ') && echo yes))
TAGS    ?=
GOFLAGS_TAGS := $(if $(TAGS),-tags $(TAGS),)
BIN     := bin/curvprobe
DEMO    ?= out/demo

.PHONY: all build test test-short bench demo vet fmt check setup clean blas

all: build

blas:
	@case "$(TAGS)" in *openblas*) echo "BLAS: OpenBLAS linked with cgo (-tags openblas)";; \
	*) if [ -n "$(OPENBLAS_RT)" ]; then echo "BLAS: OpenBLAS (libopenblas.so.0, loaded at run time)"; \
	else echo "BLAS: gonum pure Go (install libopenblas0 for OpenBLAS, ~10x faster)"; fi;; esac

build: blas
	$(GO) build $(GOFLAGS_TAGS) -o $(BIN) ./cmd/curvprobe

# test runs everything with the build's BLAS, then the CPU backend's tests
# again on the other BLAS paths: pure Go, and OpenBLAS through cgo where its
# development library is installed. Those paths differ only in what the
# backend's BLAS does (kernels/cpu: Gemm's Sgemm/Dgemm, the level-1 calls of
# Dot, Axpy, Scale, Nrm2, DotMany and AxpyMany, the BLAS threads and name),
# so the reruns skip what never reaches the BLAS, which the first pass ran:
# the float32 accuracy grids of the activations, the Go twins of our
# assembly (TestConformance32Go: BLAS calls as TestConformance32's), and the
# conformance suite's own loops (activations, losses, row-wise, memory,
# random fills, Adam). Every other test reruns, new ones included.
BLAS_FREE_TESTS := -skip 'TestActivate32Accuracy|TestExp32|TestConformance32Go|TestConformance(32|64)/^(Memory|Copy|Fill|Rademacher|Normal|AddRow|ColSum|Activate|ActivateSpecial|Mul|MulAdd|Mul3Add|SoftmaxCE|SoftmaxCELarge|SoftmaxHVP|SquaredError|CountCorrect|AdamUpdate|AdamPrecondition)$$'
test: blas
	$(GO) vet $(GOFLAGS_TAGS) ./...
	$(GO) test $(GOFLAGS_TAGS) -count=1 ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null ./...
	CURVPROBE_BLAS=gonum $(GO) test -count=1 $(BLAS_FREE_TESTS) ./kernels/cpu
	$(if $(OPENBLAS_DEV),$(GO) vet -tags openblas ./kernels/cpu && $(GO) test -tags openblas -count=1 $(BLAS_FREE_TESTS) ./kernels/cpu,@echo "skipped: go test -tags openblas ./kernels/cpu (no libopenblas-dev)")

test-short: blas
	$(GO) test $(GOFLAGS_TAGS) -short ./...

bench: build
	$(GO) test $(GOFLAGS_TAGS) -run '^$$' -bench . -benchtime 20x ./kernels/... ./models/...
	$(BIN) bench hvp --arch 784x512x512x10 --act tanh --loss cross_entropy --batch 512 --dtype float32 --repeats 20 --device cpu

demo: build
	rm -rf $(DEMO)
	$(BIN) demo --out $(DEMO)

vet:
	$(GO) vet $(GOFLAGS_TAGS) ./...
	@test -z "$$(gofmt -l .)" || (gofmt -l .; echo "gofmt: files above need formatting"; exit 1)

# setup installs what the build and tests use on Debian (as root).
setup:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libopenblas-dev python3-torch python3-numpy

clean:
	rm -rf bin out

# ptx compiles kernels/cuda/*.cu to the embedded kernels/cuda/ptx/*.ptx (needs
# nvcc; builds do not). Commit the results; TestPTXUpToDate catches stale ones.
.PHONY: ptx
ptx:
	sh kernels/cuda/genptx.sh
