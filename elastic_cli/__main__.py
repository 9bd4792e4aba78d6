from elastic_cli.cli import entry

entry()
