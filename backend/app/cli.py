"""Command line of the service.

``python -m app.cli serve | migrate | backup FILE | restore FILE | kb import PATH |
embeddings | operator add|list|remove``.
"""

from pathlib import Path

import typer
from rich.console import Console

from app.core.config import get_settings
from app.core.logging import configure_logging

cli = typer.Typer(help="VasDom AudioBot: self-learning module", no_args_is_help=True)
kb = typer.Typer(help="Company knowledge base", no_args_is_help=True)
cli.add_typer(kb, name="kb")
operator = typer.Typer(help="Operator accounts of the console", no_args_is_help=True)
cli.add_typer(operator, name="operator")
console = Console()


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int | None = typer.Option(None, help="Port; PORT from the settings by default"),
) -> None:
    """Start the HTTP service (migrates the database first)."""
    import uvicorn

    from app.main import create_app

    settings = get_settings()
    configure_logging(settings)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        # The app resolves forwarded addresses itself, from FORWARDED_ALLOW_IPS only
        # (uvicorn would trust 127.0.0.1 by default): see app/api/proxies.py.
        proxy_headers=False,
        # SIGTERM/SIGINT: stop accepting, let requests in flight (and the embedding work
        # they queued after their response) finish, then stop the service's threads.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


@cli.command()
def migrate() -> None:
    """Bring the database schema to the latest migration."""
    from app.db.database import Database
    from app.db.migrations import upgrade_to_head

    database = Database.from_settings(get_settings())
    database.ensure_pgvector_available()
    upgrade_to_head(database.url)
    database.dispose()
    console.print("[green]database is at the latest migration[/green]")


@cli.command()
def backup(
    path: Path = typer.Argument(..., dir_okay=False, help="The backup file to write"),
) -> None:
    """Write the whole database — logs, ratings, corrections, vectors, model versions, jobs —
    to FILE (pg_dump, custom format)."""
    from app.db.backup import BackupError
    from app.db.backup import backup as dump
    from app.db.database import Database

    database = Database.from_settings(get_settings())
    try:
        size = dump(database, path)
    except BackupError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    finally:
        database.dispose()
    console.print(f"[green]{path}[/green]: {size} bytes")


@cli.command()
def restore(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
) -> None:
    """Restore FILE into an empty database (a fresh DATA_DIR, or DATABASE_URL of a new
    database), then bring it to the latest migration."""
    from app.db.backup import BackupError
    from app.db.backup import restore as load
    from app.db.database import Database
    from app.db.migrations import upgrade_to_head

    database = Database.from_settings(get_settings())
    try:
        load(database, path)
        upgrade_to_head(database.url)
    except BackupError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    finally:
        database.dispose()
    console.print(f"[green]restored from {path}[/green]")


@kb.command("import")
def kb_import(path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Import a Markdown or JSONL file; importing it again replaces that file's facts."""
    from app.container import build_services

    services = build_services(get_settings())
    try:
        with services.database.transaction() as session:
            result = services.knowledge.import_file(session, path)
        console.print(
            f"[green]{path.name}[/green]: added {result.added}, "
            f"unchanged {result.unchanged}, removed {result.removed}"
        )
    finally:
        services.close()


@cli.command()
def embeddings(batch_size: int = typer.Option(100, min=1, max=1000)) -> None:
    """Embed every log that has no vector for the active embedding model."""
    from app.container import build_services

    settings = get_settings()
    configure_logging(settings)
    services = build_services(settings)
    try:
        result = services.embeddings.backfill_missing(services.database, batch_size=batch_size)
        console.print(
            f"processed {result.processed} of {result.total_found}, errors {result.errors}"
        )
    finally:
        services.close()


def _database():
    from app.db.database import Database
    from app.db.migrations import upgrade_to_head

    database = Database.from_settings(get_settings())
    upgrade_to_head(database.url)
    return database


@operator.command("add")
def operator_add(
    username: str = typer.Argument(..., help="Login name"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (scripts)"
    ),
) -> None:
    """Create an operator account; the password is stored as an argon2 hash."""
    import sys

    from app.access.operators import create_account
    from app.core.errors import InvalidInputError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Пароль", hide_input=True, confirmation_prompt=True)
    database = _database()
    try:
        with database.transaction() as session:
            create_account(session, username, password)
    except InvalidInputError as error:
        raise typer.BadParameter(str(error)) from error
    finally:
        database.dispose()
    console.print(f"[green]operator {username} created[/green]")


@operator.command("list")
def operator_list() -> None:
    """Operator accounts, oldest first."""
    from sqlalchemy import select

    from app.db.models import OperatorAccount

    database = _database()
    try:
        with database.session() as session:
            for account in session.scalars(select(OperatorAccount).order_by(OperatorAccount.id)):
                console.print(f"{account.username}\t{account.created_at:%Y-%m-%d %H:%M}")
    finally:
        database.dispose()


@operator.command("remove")
def operator_remove(username: str = typer.Argument(...)) -> None:
    """Delete an operator account and end its logins."""
    from app.access.operators import remove_account
    from app.core.errors import NotFoundError

    database = _database()
    try:
        with database.transaction() as session:
            remove_account(session, username)
    except NotFoundError as error:
        raise typer.BadParameter(str(error)) from error
    finally:
        database.dispose()
    console.print(f"operator {username} removed")


if __name__ == "__main__":
    cli()
