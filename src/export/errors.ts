// The one error the exporter raises for a model it cannot export: it names the op (LibTorch's
// entry point, e.g. `cumsum` or `add$Tensor`) and the module path it was called from, so the user
// knows which layer of their model to change.

export class OnnxExportError extends Error {
  override name = 'OnnxExportError';

  constructor(
    readonly op: string,
    /** Dotted module path (`layer1.0.conv1`); '' is the model's own forward. */
    readonly modulePath: string,
    /** The class of the module at that path. */
    readonly moduleClass: string,
    reason: string,
  ) {
    super(`ONNX export: ${reason} (op '${op}' in ${modulePath ? `module '${modulePath}' (${moduleClass})` : `the forward of ${moduleClass} itself`})`);
  }
}
