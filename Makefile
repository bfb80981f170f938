# Two commands for a newcomer (see README):
#   make run    set up and start the app on its embedded default data (http://127.0.0.1:8050);
#               make run PREFECTURE=29 (or 奈良県, nara) serves any of the 47 prefectures
#   make run-national   the same with GSI's evacuation sites and shelters of all Japan (../shared/real-data)
#   make test   set up everything the tests need and run them (what CI runs)
PY ?= python3
VENV := .venv
PORT ?= 8050
SYSTEM_PACKAGES := chromium chromium-driver redis-server nginx  # nginx: deploy/nginx.conf is tested
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run run-national test setup system bench

$(VENV)/.installed: requirements.txt
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed

run: setup
	PORT=$(PORT) $(if $(PREFECTURE),MIERUKA_PREFECTURE='$(PREFECTURE)') $(VENV)/bin/python app.py

GSI_JAPAN := ../shared/real-data/gsi-hinanbasho
run-national: setup
	@test -f $(GSI_JAPAN)/japan-emergency.geojson.gz || { echo "run-national: GSI's nationwide files are read from $(GSI_JAPAN)/ (not found)"; exit 1; }
	PORT=$(PORT) MIERUKA_CONFIG=config/national.toml $(VENV)/bin/python app.py

system:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v redis-server >/dev/null || [ ! -x /usr/sbin/nginx ]; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); \
	fi

test: system setup
	$(VENV)/bin/pytest

bench: system setup
	@if ! command -v wrk >/dev/null || [ ! -x /usr/sbin/nginx ] || [ ! -e /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ]; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends wrk nginx libnginx-mod-http-brotli-static; \
	fi
	$(VENV)/bin/python bench/map_load.py
	$(VENV)/bin/python bench/map_summary.py
	$(VENV)/bin/python bench/dashboard.py
	$(VENV)/bin/python bench/importer.py
	$(VENV)/bin/python bench/cold_start.py
	$(VENV)/bin/python bench/load.py
