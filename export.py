"""Export a run as ONNX: `python export.py ckpt_path=<run>/checkpoints/best.ckpt`."""

from lstm_lab.export import cli

if __name__ == "__main__":
    cli()
