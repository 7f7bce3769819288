# The front door. `make run` serves on 127.0.0.1:8080; `make test` runs every test.
JOBS ?= $(shell nproc)
PRESET ?= release
BIN := build/$(PRESET)/ikigai

.PHONY: deps deps-test deps-bench deps-lint configure build run test sanitize bench cluster cluster-stop fmt lint clean

deps:
	@bash scripts/deps.sh build
deps-test:
	@bash scripts/deps.sh test
deps-bench:
	@bash scripts/deps.sh bench
deps-lint:
	@bash scripts/deps.sh lint

build/%/CMakeCache.txt:
	cmake --preset $* >/dev/null

configure: build/$(PRESET)/CMakeCache.txt

build: deps configure
	cmake --build --preset $(PRESET) -j $(JOBS)

# Only the server target: a first `make run` must not wait for the test binaries it does not run.
run: deps configure
	cmake --build --preset $(PRESET) -j $(JOBS) --target ikigai
	./$(BIN) serve

test: deps-test configure
	cmake --build --preset $(PRESET) -j $(JOBS)
	ctest --preset $(PRESET) -j $(JOBS)

sanitize: deps-test build/asan/CMakeCache.txt
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

bench: deps-bench configure
	cmake --build --preset release -j $(JOBS) --target ikigai
	bash scripts/bench.sh

# Three Galera nodes, two instances and HAProxy on loopback (docs/deploy.md); prints the URL.
cluster: deps-test configure
	cmake --build --preset release -j $(JOBS) --target ikigai
	bash scripts/cluster.sh start

cluster-stop:
	bash scripts/cluster.sh stop

fmt: deps-lint
	find src tests bench -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

lint: deps-lint configure
	find src -name '*.cpp' | xargs clang-tidy -p build/$(PRESET) --quiet

clean:
	rm -rf build
