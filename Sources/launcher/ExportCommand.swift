import ArgumentParser
import Checkpoints

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's network to a safetensors file, under its PyTorch names.",
        discussion: """
            The weights and BatchNorm buffers of one network, named as the state_dict of the PyTorch \
            modules in benchmarks/torch_reference.py: float32, and int64 for num_batches_tracked. Load it \
            with `module.load_state_dict(safetensors.torch.load_file("G.safetensors"), strict=True)`. The \
            file's metadata names the preset, network, step and source checkpoint. The generator is its \
            moving average (/generator_ema) when the checkpoint has one, unless --raw-generator.

              launcher export checkpoints/run/checkpoint-00003000.h5 --out G.safetensors
              launcher export checkpoints/run/best.h5 --network discriminator --out D.safetensors
            """
    )

    @Argument(help: ArgumentHelp("The checkpoint to export from.", valueName: "checkpoint"))
    var checkpoint: String

    @Option(help: ArgumentHelp("The file format; safetensors is the one there is.", valueName: "safetensors"))
    var format = "safetensors"

    @Option(help: ArgumentHelp("The network: generator, discriminator, and for alphagan28 encoder and code_discriminator.", valueName: "name"))
    var network = "generator"

    @Flag(help: "Export the trained generator rather than its moving average (/generator_ema).")
    var rawGenerator = false

    @Option(help: ArgumentHelp("The file to write.", valueName: "file.safetensors"))
    var out: String

    func validate() throws {
        guard format == "safetensors" else { throw ValidationError("--format \(format): expected safetensors") }
    }

    func run() throws {
        let exported = try Safetensors.export(checkpoint: checkpoint, network: network, raw: rawGenerator, to: out)
        print("wrote \(exported.tensors) tensors of /\(exported.group) to \(out)")
    }
}
