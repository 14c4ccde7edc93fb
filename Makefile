# surgery — set-up, tests and the main job. `make model` fetches the default model once per machine;
# `make test` runs the whole suite; `make run` runs the study on the default model; `make watch`
# reruns it whenever Sources/ changes; `make install` copies the release binary to $(PREFIX)/bin.

# The fast kernels need a CPU with FMA: without a target CPU, SIMD `addingProduct` becomes a call to
# `fmaf` per lane (~100× slower). Published figures used exactly these flags. SURGERY_FAST_KERNELS
# tells the binary so (Swift has no `#if` on CPU features); without it `surgery` warns at start.
SWIFT_FLAGS ?= -c release -Xcc -march=native -Xswiftc -DSURGERY_FAST_KERNELS
MODEL_CACHE ?= $(HOME)/.cache/surgery/models
MODEL ?= $(MODEL_CACHE)/SmolLM2-135M-Instruct.Q4_1.gguf
# VARIANCE_THRESHOLD=t passes --variance t; unset, `surgery run` uses the study's default.
VARIANCE_THRESHOLD ?=
export SURGERY_MODEL := $(MODEL)
# Where `make install` puts bin/surgery (DESTDIR=… prefixes it, for packaging).
PREFIX ?= /usr/local

.PHONY: model test build run watch install bench fixtures clean

model: $(MODEL)

$(MODEL): Tools/fetch-model.sh
	@Tools/fetch-model.sh "$(MODEL)"

build:
	swift build $(SWIFT_FLAGS)

test: model
	swift test $(SWIFT_FLAGS)

run: model build
	swift run $(SWIFT_FLAGS) surgery run "$(MODEL)" $(if $(VARIANCE_THRESHOLD),--variance $(VARIANCE_THRESHOLD))

# Polls Sources/ once a second (Tools/watch.sh; no new dependency) and reruns `make run` on a change.
watch: model
	@Tools/watch.sh Sources $(MAKE) --no-print-directory run VARIANCE_THRESHOLD="$(VARIANCE_THRESHOLD)"

install: build
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 755 "$$(swift build $(SWIFT_FLAGS) --show-bin-path)/surgery" "$(DESTDIR)$(PREFIX)/bin/surgery"

bench: model
	swift run $(SWIFT_FLAGS) Benchmarks

# Regenerates Tests/Fixtures from the independent implementations (not run by CI).
fixtures: model
	Tools/reference/run.sh

clean:
	rm -rf .build

# The fuzz harness (Tools/fuzz): damaged copies of the fixture models through the whole load path.
# `make test` runs 20 000 cases of seed 1; this runs a million (FUZZ_CASES, FUZZ_SEED to change).
FUZZ_CASES ?= 1000000
FUZZ_SEED ?= 1
.PHONY: fuzz
fuzz:
	swift run $(SWIFT_FLAGS) fuzz --cases $(FUZZ_CASES) --seed $(FUZZ_SEED)
