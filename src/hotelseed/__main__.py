from hotelseed.cli import main

main()
