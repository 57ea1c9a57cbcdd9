"""cProfile of one model's forward-gradient step (1 thread): where the time goes.

    python bench/issue14/profile_step.py cnn outer [n_steps]
"""
import cProfile
import os
import pstats
import sys
import time

from _setup import dualnum_step

name, dist = sys.argv[1], sys.argv[2]
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
step = dualnum_step(name, distribution=dist)[0]
step()
step()
pr = cProfile.Profile(time.perf_counter if os.environ.get("WALL") else time.process_time)
pr.enable()
for _ in range(steps):
    step()
pr.disable()
st = pstats.Stats(pr)
st.sort_stats("tottime").print_stats(25)
