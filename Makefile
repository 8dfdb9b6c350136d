# The two commands of README.md: `make demo` and `make test`.
# Each creates the environments it needs (in .venv/) and reuses them.
OUTPUT_DIR ?= output/demo
# `newest`: the newest TensorFlow line whose Python is here (tf3, else tf2,
# else tf1); or tf1, tf2, tf3.
TF_LINE ?= newest

.PHONY: demo test test-tf1 test-tf2 test-tf3 envs

# oneDNN kernels make a CPU training step of TF 2.15 1.15-1.4x cheaper on
# these machines (benchmarks/README.md); TF 1.15 ignores the variable.
demo:
	@python_bin=$$(scripts/make_env.sh $(TF_LINE)) && \
	  python_bin=$$(printf '%s\n' "$$python_bin" | tail -n 1) && \
	  TF_ENABLE_ONEDNN_OPTS=$${TF_ENABLE_ONEDNN_OPTS:-1} \
	  $$python_bin demo.py --output_dir=$(OUTPUT_DIR)

# Every line whose Python is here; CI=true makes a missing one fail.
test:
	scripts/run_tests.sh all

test-tf1:
	scripts/run_tests.sh tf1

test-tf2:
	scripts/run_tests.sh tf2

test-tf3:
	scripts/run_tests.sh tf3

# Makes the environment of every line whose Python is here.
envs:
	@made=0; for line in tf1 tf2 tf3; do \
	  scripts/make_env.sh $$line && made=1 || \
	    { code=$$?; [ $$code -eq 3 ] || exit $$code; }; \
	done; [ $$made = 1 ]
