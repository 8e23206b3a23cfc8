// The SDK's values (Item, File, Instance, Label, …) are the model's; users import Sluice alone.
// Sluice's own `Project` and `Dataset` handles shadow the model records of the same names.
@_exported import SluiceModel
@_exported import SluiceTensors
