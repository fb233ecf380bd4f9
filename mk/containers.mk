# The compose stacks for real, under podman (docs/monitoring.md, "Running the stacks with podman").
#   make test-containers   install podman & co., build the offline stand-in images (cached by
#                          content hash), run test/containers/stacks.e2e.ts against `make up`,
#                          `make monitor-up`, `make scale`, `make monitor-reload`, `make down`…
# CONTAINER_TESTS=auto skips with a printed reason where podman cannot run; under CI (CI=true)
# the default is require: there a skip fails.
CONTAINER_TESTS ?= $(if $(CI),require,auto)

.PHONY: test-containers

test-containers: install system-deps
	@CONTAINER_TESTS=$(CONTAINER_TESTS) bash scripts/containers/run.sh
