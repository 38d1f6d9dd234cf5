from chroma_cleanup.cli import main

main()
