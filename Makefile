# netboot.coreos — set-up and test tiers. `make lab` runs the embedded lab, `make test` every test tier.
# Both install what they need on Debian 12 as root (apt packages once, a pinned venv in .venv).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
SANITY_ROOT := $(BUILD)/sanity/ansible_collections/netboot/coreos
SANITY_HOME := $(BUILD)/sanity/home
IMAGE := localhost/netboot-debian-systemd:bookworm
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOWS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# the venv and the unit tier need only the first line (ignition: the unit tier's oracle); the other tiers need all
BASE_APT_PACKAGES := python3-venv gnupg ignition
APT_PACKAGES := $(BASE_APT_PACKAGES) golang-go golang-github-vmware-govmomi-dev podman runc debootstrap \
	dnsmasq-base nginx-light ipxe ipxe-qemu qemu-system-x86 ovmf busybox-static rsync iproute2 \
	curl util-linux syslinux syslinux-efi syslinux-common mtools dosfstools fdisk e2fsprogs passwd \
	gcc libc6-dev make binutils perl liblzma-dev openssl git xz-utils

.PHONY: help deps venv collection vcsim image lab lab-down test unit sanity lint docs changelog galaxy integration \
	molecule e2e benchmark clean

help:
	@echo "make lab        the embedded lab: simulated vCenter, boot server, site.yml, a QEMU node that installs (make lab-down)"
	@echo "make test       every test tier: $(TIERS)"
	@echo "make <tier>     one tier; make benchmark runs benchmarks/ (not part of make test)"
	@echo "make changelog  build/changelog/CHANGELOG.md and .rst: the next release's changelog from changelogs/fragments"

# -- set-up -----------------------------------------------------------------------------------------------

# one apt run at a time on this machine (parallel checkouts share it)
define apt_install
	mkdir -p $(BUILD)
	$(SUDO) flock /tmp/netboot-coreos-apt.lock apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) flock /tmp/netboot-coreos-apt.lock \
	  apt-get install -y -qq --no-install-recommends $(1) >/dev/null
	touch $@
endef

deps: $(BUILD)/.apt-done
$(BUILD)/.apt-done: Makefile
	$(call apt_install,$(APT_PACKAGES))
$(BUILD)/.apt-base-done: Makefile
	$(call apt_install,$(BASE_APT_PACKAGES))

venv: $(VENV)/.done
$(VENV)/.done: requirements-dev.txt | $(BUILD)/.apt-base-done
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

collection: $(COLLECTIONS)/ansible_collections/netboot/coreos
$(COLLECTIONS)/ansible_collections/netboot/coreos:
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

vcsim: $(BUILD)/vcsim
$(BUILD)/vcsim: tests/lab/build-vcsim.sh tests/lab/vcsim/main.go | $(BUILD)/.apt-done
	tests/lab/build-vcsim.sh $@

image: $(BUILD)/.apt-done
	tests/lab/build-image.sh $(IMAGE)

# -- the embedded lab -------------------------------------------------------------------------------------

# the whole chain on this machine (tests/lab/lab.py): simulator, signed test release, boot server, site.yml,
# a QEMU node booting through it; LAB_DIR holds one lab's state, LAB_ARGS=--check runs site.yml in check mode
LAB_DIR ?= $(BUILD)/lab
lab: venv collection deps
	@$(BIN)/python tests/lab/lab.py up --state-dir $(LAB_DIR) $(LAB_ARGS)

lab-down:
	@$(BIN)/python tests/lab/lab.py down --state-dir $(LAB_DIR)

# -- test tiers -------------------------------------------------------------------------------------------

TIERS := unit sanity lint docs galaxy integration molecule e2e

# each tier in turn, timed; a failing tier stops the run. Where ../shared/ipxe exists, the e2e tier's iPXE build
# (tests/e2e/ipxe_roms.py, niced) starts first in the background, so its minutes of compiling overlap the
# earlier tiers; the e2e tests wait for it on its file lock (its output: build/ipxe-roms.log)
test: venv collection deps
	@mkdir -p $(BUILD); : > $(BUILD)/tier-times.txt; \
	if ls ../shared/ipxe/ipxe-*.tar.* >/dev/null 2>&1; then \
	  nohup $(BIN)/python tests/e2e/ipxe_roms.py > $(BUILD)/ipxe-roms.log 2>&1 & fi; \
	for tier in $(TIERS); do started=$$(date +%s); \
	  $(MAKE) --no-print-directory $$tier || { echo "tier $$tier FAILED"; cat $(BUILD)/tier-times.txt; exit 1; }; \
	  echo "tier $$tier: $$(( $$(date +%s) - started )) s" >> $(BUILD)/tier-times.txt; done; \
	cat $(BUILD)/tier-times.txt

unit: venv collection
	$(BIN)/pytest -q -p no:cacheprovider tests/unit

integration: venv collection vcsim
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile tests/integration

# ansible-test needs a real copy under ansible_collections/<ns>/<name>; serialised so parallel runs don't clash.
# Its caches (~/.ansible/test: get-pip, sanity venvs) go to build/sanity/home, not the user's home.
sanity: venv deps
	mkdir -p $(SANITY_ROOT) $(SANITY_HOME)/.ansible/test/cache
	cp tests/sanity/get_pip_offline.py $(SANITY_HOME)/.ansible/test/cache/get_pip_24_2.py
	flock $(BUILD)/.sanity.lock bash -c '\
	  rsync -a --delete --exclude .venv --exclude build --exclude tests/output --exclude .git \
	    --exclude __pycache__ --exclude .pytest_cache ./ $(SANITY_ROOT)/ && \
	  cp -a .git $(SANITY_ROOT)/.git 2>/dev/null; \
	  cd $(SANITY_ROOT) && HOME=$(SANITY_HOME) $(BIN)/ansible-test sanity --python 3.11 --color no -v'

lint: venv collection
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint --offline -q
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

# the docs site, offline (no intersphinx, nothing fetched): the guides of docs/ (MyST Markdown, Mermaid) and the
# module, filter, test and role reference antsibull-docs generates from the docs in code (every plugin and role
# the collection has), built with warnings as errors; the changelog fragments linted and the next release's
# changelog in the site; every relative link and anchor of the repository's Markdown files checked
DOCS := $(BUILD)/docs
docs: venv collection changelog
	$(BIN)/python tests/docs/linkcheck.py
	rm -rf $(DOCS) && mkdir -p $(DOCS)/src/guide
	$(BIN)/antsibull-docs collection --use-current --dest-dir $(DOCS)/src netboot.coreos
	cp docs/*.md $(DOCS)/src/guide/
	cp tests/docs/index.md $(BUILD)/changelog/CHANGELOG.md $(DOCS)/src/ && mv $(DOCS)/src/CHANGELOG.md $(DOCS)/src/changelog.md
	$(BIN)/sphinx-build -q -W --keep-going -c tests/docs -b html $(DOCS)/src $(DOCS)/html
	@echo "docs: $$(find $(DOCS)/html -name '*.html' | wc -l) pages in $(DOCS)/html (index.html)"

# the changelog of the next release (galaxy.yml's version) from changelogs/fragments, in a scratch copy so that
# the fragments stay; a release runs `antsibull-changelog release` in the repository itself
CHANGELOG_COPY := $(BUILD)/changelog/ansible_collections/netboot/coreos
changelog: venv
	$(BIN)/antsibull-changelog lint
	rm -rf $(BUILD)/changelog && mkdir -p $(CHANGELOG_COPY)
	cp -a galaxy.yml changelogs meta plugins roles $(CHANGELOG_COPY)/
	cd $(CHANGELOG_COPY) && $(BIN)/antsibull-changelog release --version \
	  "$$($(BIN)/python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')"
	cp $(CHANGELOG_COPY)/CHANGELOG.md $(CHANGELOG_COPY)/CHANGELOG.rst $(BUILD)/changelog/

# the built tarball as Galaxy imports it (galaxy-importer runs ansible-doc and ansible-lint on it); a warning fails
GALAXY := $(BUILD)/galaxy
galaxy: venv
	rm -rf $(GALAXY) && mkdir -p $(GALAXY)/home $(GALAXY)/tmp
	$(BIN)/ansible-galaxy collection build --output-path $(GALAXY) .
	HOME=$(GALAXY)/home GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP=$(GALAXY)/tmp GALAXY_IMPORTER_TMP_ROOT_DIR=$(GALAXY)/tmp \
	  bash -c "cd $(GALAXY) && $(BIN)/python -m galaxy_importer.main netboot-coreos-*.tar.gz" 2>&1 | tee $(GALAXY)/importer.log
	@! grep -E '^(WARNING|ERROR)' $(GALAXY)/importer.log || { echo "galaxy-importer warned (build/galaxy/importer.log)"; exit 1; }

# two scenarios at a time (each has its own container and network); a scenario's log is shown when it fails
molecule: venv collection image
	@mkdir -p $(BUILD)/molecule; \
	ls extensions/molecule/*/molecule.yml | xargs -rn1 dirname | xargs -rn1 basename | \
	  xargs -P 2 -I{} bash -c 'started=$$(date +%s); \
	    if $(BIN)/molecule test -s {} > $(BUILD)/molecule/{}.log 2>&1; \
	    then echo "molecule {}: passed in $$(( $$(date +%s) - started )) s"; \
	    else tail -80 $(BUILD)/molecule/{}.log; echo "molecule {}: FAILED (log: build/molecule/{}.log)"; exit 1; fi'

# two workers, a test file each at a time (every file's VMs, networks and servers are its own; the cached test
# release and the iPXE build are shared under file locks)
e2e: venv collection deps
	@if ls tests/e2e/test_*.py >/dev/null 2>&1; then $(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile tests/e2e; \
	  else echo "e2e: no end-to-end tests yet"; fi

# each benchmark in turn (benchlib.py is their shared helper module, not a benchmark); see benchmarks/README.md.
# A failing benchmark does not stop the others: their rows still print, the failures are named at the end
benchmark: venv collection vcsim
	@failed=""; for b in $(filter-out benchmarks/benchlib.py,$(wildcard benchmarks/*.py)); do echo "== $$b"; \
	  $(BIN)/python $$b || { echo "== $$b FAILED"; failed="$$failed $$b"; }; done; \
	if [ -n "$$failed" ]; then echo "benchmarks that failed:$$failed"; exit 1; fi

clean:
	rm -rf $(BUILD) tests/output
