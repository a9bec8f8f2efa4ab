import os
import sys

print("scoring", sys.argv[1:], "with", os.environ["MODEL_PATH"])
