"""Set the HTTP function's auth level before packaging: `anonymous` (the public platform, the
default in the repo) or `function` (callers need a function key, sent as `x-functions-key` or
`?code=`). `function.json` is static, so deploy pipelines run this with the level they want:

    python -m deployment.function_auth function
"""

import argparse
import json
from pathlib import Path

FUNCTION_JSON = Path(__file__).resolve().parents[1] / "main" / "function.json"
AUTH_LEVELS = ("anonymous", "function", "admin")


def set_auth_level(level: str, function_json: Path = FUNCTION_JSON) -> None:
    """Rewrite the HTTP trigger's `authLevel` in place."""
    if level not in AUTH_LEVELS:
        raise ValueError(f"auth level {level!r} is not one of {AUTH_LEVELS}")
    config = json.loads(function_json.read_text())
    for binding in config["bindings"]:
        if binding["type"] == "httpTrigger":
            binding["authLevel"] = level
    function_json.write_text(json.dumps(config, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deployment.function_auth", description=__doc__)
    parser.add_argument("level", choices=AUTH_LEVELS)
    parser.add_argument("--function-json", type=Path, default=FUNCTION_JSON)
    arguments = parser.parse_args(argv)
    set_auth_level(arguments.level, arguments.function_json)


if __name__ == "__main__":
    main()
