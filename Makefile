# The two commands of README.md: `make demo` and `make test`.
# Each creates the environments it needs (in .venv/) and reuses them.
OUTPUT_DIR ?= output/demo
TF_LINE ?= tf2

.PHONY: demo test test-tf1 test-tf2 envs

# oneDNN kernels make a CPU training step of TF 2.15 1.15-1.4x cheaper on
# these machines (benchmarks/README.md); TF 1.15 ignores the variable.
demo:
	@python_bin=$$(scripts/make_env.sh $(TF_LINE) | tail -n 1) && \
	  TF_ENABLE_ONEDNN_OPTS=$${TF_ENABLE_ONEDNN_OPTS:-1} \
	  $$python_bin demo.py --output_dir=$(OUTPUT_DIR)

test:
	scripts/run_tests.sh both

test-tf1:
	scripts/run_tests.sh tf1

test-tf2:
	scripts/run_tests.sh tf2

envs:
	scripts/make_env.sh tf1 && scripts/make_env.sh tf2
