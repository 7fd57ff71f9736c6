// One cluster of real processes; its tests run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
