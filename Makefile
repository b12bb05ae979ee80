# ptim — one-word entry points. Each target first makes sure what it needs exists.
#   make          build           make test    every test (SANITIZE=1: ASan+UBSan build,
#                                              TSAN=1: ThreadSanitizer build in build-tsan/,
#                                              LABEL=threads: only the tests with that ctest label)
#   make demo     the main job     make bench   benchmarks
#   make soak     long live-mode soak (memory, hot reload, no unmasked frame)
JOBS ?= $(shell nproc)
ifeq ($(TSAN),1)
BUILD ?= build-tsan
CMAKE_FLAGS += -DPTIM_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
endif
ifeq ($(SANITIZE),1)
BUILD ?= build-asan
CMAKE_FLAGS += -DPTIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
else
BUILD ?= build
endif

.PHONY: all build bootstrap demo test bench fuzz soak clean

all: build

bootstrap:
	@bash scripts/bootstrap.sh

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: bootstrap $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(if $(LABEL),-L $(LABEL))

bench: build
	@bash scripts/bench.sh $(BUILD)

fuzz: bootstrap
	@cmake -S . -B build-fuzz -DPTIM_FUZZ=ON -DPTIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang >/dev/null
	@cmake --build build-fuzz -j $(JOBS) >/dev/null
	@bash scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# Long soak: live mode for 20000 frames with hot reloads (FRAMES=, EDIT_EVERY= to change).
soak: build
	@bash scripts/soak.sh $(BUILD)

clean:
	rm -rf build build-asan build-tsan build-fuzz
