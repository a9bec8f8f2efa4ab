import os

from fastapi import FastAPI

app = FastAPI(title="inference")
MODEL_PATH = os.environ["MODEL_PATH"]
