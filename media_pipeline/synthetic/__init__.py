"""Media and documents made from scratch (ffmpeg's test sources, PDFs written object by object, EPUBs made with
EbookLib) for tests, the demo and benchmarks: nothing is ever downloaded. Not used by the pipeline itself."""
