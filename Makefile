# Two commands on a fresh machine: `make run` (set up, build the demo once, start the app)
# and `make test` (set up, run every test).  Nothing else is installed by hand.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= data/blindspot.duckdb
PORT   ?= 8501

# Rebuild the demo when a file the build depends on changes: the modules blindspot.demo.build
# imports (generator, schema, training, scoring...) and blindspot/data/*.csv, listed by
# blindspot/demo/inputs.py.  It needs only the standard library, so the system Python runs it
# before the venv exists; if it cannot run, the list is empty and the database is built when
# it is missing (as it is on a fresh machine).
DEMO_INPUTS := $(shell $(PYTHON) -m blindspot.demo.inputs 2>/dev/null)

.PHONY: run serve test setup demo browser-deps clean lint typecheck postgres

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 이 필요합니다 (지금 {sys.version.split()[0]})"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .   # the `blindspot` console script (pyproject.toml)
	touch $@

# A rebuild keeps the audit log, entered outcomes, briefing targets and ingest history
# (copied into the new build before the swap); a real database (init-db, ingested rounds)
# is never rebuilt by make (--skip-if-real leaves it untouched and says so).
$(DB): $(VENV)/.installed $(DEMO_INPUTS)
	$(BIN)/python -m blindspot build-demo --db $(DB) --skip-if-real

demo: $(DB)

# Demo accounts: created once, when config/auth.yaml is missing; their passwords go to
# config/demo-passwords.txt (readable by you only), never to the terminal.
AUTH ?= config/auth.yaml

$(AUTH): | $(VENV)/.installed
	$(BIN)/python -m blindspot users init-demo --auth $(AUTH)

# The app behind its server gate (uploads/downloads only for signed-in sessions, security
# headers), on 127.0.0.1 only; ADDRESS=0.0.0.0 opens it to the network on purpose.
ADDRESS ?= 127.0.0.1
run: $(DB) $(AUTH)
	@echo "데모 계정 비밀번호: config/demo-passwords.txt (처음 한 번 만들어짐)"
	$(BIN)/python -m blindspot serve --address $(ADDRESS) --port $(PORT)

# Several app processes on this machine behind nginx (docs/deploy.md): nginx on
# ADDRESS:PROXY_PORT routes each browser by its cookie to one of PROCESSES processes (ports
# 8601…), and a process that dies is started again.  Needs nginx (`apt-get install -y nginx-light`).
PROCESSES  ?= 2
PROXY_PORT ?= 8080
serve: $(DB) $(AUTH)
	$(BIN)/python -m blindspot.deploy --processes $(PROCESSES) --port $(PROXY_PORT) --address $(ADDRESS)

# The operational store is tested on SQLite and on a real PostgreSQL server from Debian's
# packages (.ci/postgres installs and starts it, and prints its URL); without root or apt
# the PostgreSQL cases skip and say why, except under CI, where they fail.
PG_URL_FILE := data/test-postgres.url
test: $(VENV)/.installed postgres
	$(BIN)/python -m pytest

postgres:
	@mkdir -p data
	@if url=$$(bash .ci/postgres); then (umask 077; echo "$$url" > $(PG_URL_FILE)); echo "PostgreSQL 시험 서버: 있음"; \
	else rm -f $(PG_URL_FILE); echo "PostgreSQL 시험 서버 없음: 운영 저장소의 PostgreSQL 시험은 건너뜁니다"; fi

# Style and types, run by .ci/run beside the tests (configuration in pyproject.toml).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Typed and checked: the seams every caller depends on (storage, privacy rules, casework) and
# the shared modules at the top.  The other packages are read for their types, not yet checked.
TYPED := blindspot/db blindspot/access blindspot/casework blindspot/geo blindspot/indicators blindspot/reach blindspot/followup blindspot/zones blindspot/lonely \
	blindspot/settings.py blindspot/setting_table.py blindspot/config.py blindspot/cli.py blindspot/cli_parser.py blindspot/cli_models.py blindspot/cli_capacity.py blindspot/rounds.py \
	blindspot/model/capacity.py blindspot/model/whatif.py blindspot/model/auditsample.py blindspot/model/staffing.py \
	blindspot/vocab.py blindspot/spreadsheet.py blindspot/progress.py blindspot/errors.py
typecheck: $(VENV)/.installed
	$(BIN)/mypy $(TYPED)

# Browser tests drive Debian's chromium (Playwright's own browser download does not work
# here); a Korean font from the distribution so screenshots show Hangul; nginx for the test
# of deploy/nginx/blindspot.conf.  Without root or apt those tests skip and say why.
browser-deps:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi nanum && command -v nginx >/dev/null && command -v soffice >/dev/null; then echo "chromium, nginx, libreoffice: 있음"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum nginx-light libreoffice-calc-nogui >/dev/null) \
	  || echo "chromium/nginx/libreoffice 설치 실패: 브라우저·nginx·인쇄 시험은 건너뜁니다"; \
	else echo "chromium 없음 (root/apt 필요): 브라우저 시험은 건너뜁니다"; fi

clean:
	rm -rf $(VENV) data/*.duckdb data/*.duckdb.wal data/ops.sqlite*
