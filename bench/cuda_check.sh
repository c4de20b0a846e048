#!/usr/bin/env bash
# The GPU check, run on a lent GPU machine: the engine tests (CPU and CUDA) and the benchmark there.
set -u
export PYTHONPATH=$PWD
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0))"
python3 -m pytest -q -p no:cacheprovider --noconftest tests/test_engine_cuda.py tests/test_engine_training.py tests/test_engine_datasets.py 2>&1 | tail -15
python3 bench/engine.py --repeats 3
