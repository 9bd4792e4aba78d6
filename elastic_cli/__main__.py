from elastic_cli.cli import main

main()
