import Models

/// One network of a run with what trains it: the unit a step updates, the data-parallel code keeps
/// in step across ranks, and a checkpoint stores under the network's name.
public struct Player {
    /// The network's HDF5 group name ("generator").
    public let name: String
    public let network: Layer
    /// The learning rate the configuration gives this network, before any decay.
    public let learningRate: Float
    public let optimizer: Adam

    public init(name: String, network: Layer, learningRate: Float? = nil, optimizer: Adam) {
        (self.name, self.network, self.learningRate, self.optimizer) = (name, network, learningRate ?? optimizer.learningRate, optimizer)
    }
}
