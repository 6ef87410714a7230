# Builds @NAME@.wasm, a replaysim component of world @WORLD@, from @NAME@.py.
# Every tool and path comes from `replaysim config --toolchain` (the SDK
# that replaysim installed); nothing here is specific to one machine.
#
#   make          the component, and drive.db (a synthetic drive) if missing
#   make clean    removes what make wrote
REPLAYSIM ?= replaysim
NAME := @NAME@
WORLD := @WORLD@
DRIVE_LENGTH ?= 10s

all: $(NAME).wasm drive.db

# The toolchain's paths (RSIM_COMPONENTIZE_PY, RSIM_WAC, RSIM_WASI_ADAPTER,
# RSIM_WIT, ...), written once by replaysim.
toolchain.mk:
	$(REPLAYSIM) config --toolchain --make > $@.tmp && mv $@.tmp $@
ifneq ($(MAKECMDGOALS),clean)
include toolchain.mk
endif

# componentize-py: the Python interpreter, its library and @NAME@.py in one
# component.  The interpreter imports WASI (clocks, random, stdio, files,
# sockets), which the host does not give...
$(NAME).unplugged.wasm: $(NAME).py toolchain.mk
	$(RSIM_COMPONENTIZE_PY) -d $(RSIM_WIT) -w $(WORLD) componentize -p . $(NAME) -o $@

# ...so replaysim's deterministic WASI adapter is plugged in: clocks read the
# sim time, random is seeded by the graph, print() goes to the run log, and
# there are no files, network or environment.  What is left imports only what
# the host gives a component with `wasi: deterministic` in the graph.
$(NAME).wasm: $(NAME).unplugged.wasm
	$(RSIM_WAC) plug $< --plug $(RSIM_WASI_ADAPTER) -o $@

drive.db:
	$(REPLAYSIM) generate --out $@ --duration $(DRIVE_LENGTH) --seed 42

clean:
	rm -rf toolchain.mk toolchain.mk.tmp $(NAME).unplugged.wasm $(NAME).wasm __pycache__

.PHONY: all clean
