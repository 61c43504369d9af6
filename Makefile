# OSAP — top-level entry points. CMake + Ninja do the building; this file only
# wires set-up, the three build trees and the test run together.
#
#   make         install missing build packages, build into build/
#   make test    install what tests need, build build/ build-asan/ build-fuzz/,
#                run every test through CTest (ends with CTest's summary)
#   make run     build and start the platform with a small simulated fleet
#   make clean   remove the build trees

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# Seconds of each fuzz target's smoke run: 18 targets x 8 s is about 170 s of CPU,
# 85 s with ctest -j2 (deep runs are done by hand, see fuzz/README.md).
FUZZ_SECONDS ?= 8
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: all deps deps-build configure build asan fuzz test run clean format check-format

all: build

deps-build:
	@scripts/deps.sh build

deps:
	@scripts/deps.sh test

$(BUILD)/build.ninja: | deps-build
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps-build $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps-build
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DOSAP_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

fuzz: deps-build
	@CC=clang cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCMAKE_C_COMPILER=clang -DOSAP_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

test: deps asan fuzz
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DOSAP_ASAN_DIR=$(CURDIR)/$(ASAN_BUILD) -DOSAP_FUZZ_DIR=$(CURDIR)/$(FUZZ_BUILD) \
	    -DOSAP_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

run: deps build
	@scripts/run.sh

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

check-format:
	@git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
