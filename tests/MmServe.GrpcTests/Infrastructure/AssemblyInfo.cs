// Each test class starts its own server with its own ONNX sessions; on small CI machines they are kinder run one
// after another (the golden-parity class still puts every case in flight at once).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
