"""HTTP layer: Connexion routes validated requests to the plain functions in this package."""

import warnings

# connexion 3.3 imports starlette.testclient at import time (connexion/apps/abstract.py, for its
# test_client() helper, which the server never calls), and Starlette 1.x warns there that its
# test client wants httpx2. Silence exactly that warning from exactly that module, here because
# every entry point (the CLI, each uvicorn worker's handlers.asgi) imports this package before
# Connexion; installing httpx2 would change the test client under the whole suite instead.
warnings.filterwarnings(
    "ignore",
    message=r"Using `httpx` with `starlette\.testclient` is deprecated",
    module=r"connexion\.apps\.abstract",
)
