"""Stream annotated training data from a Sluice server into numpy, PyTorch and TensorFlow.

```python
from sluice import Project
ds = Project("coco-dataset", host="http://127.0.0.1:8085").directory.get(name="Default")
len(ds); ds[7]
train = ds.slice("labels.person > 0").to_pytorch(transform=my_transform)
```
"""

from .dataset import Dataset, Directory, Project
from .epoch import Epoch, EpochState
from .errors import SluiceError
from .records import Record
from .sample import FileInfo, make_sample
from .writes import StaleRevision

__all__ = ["Project", "Directory", "Dataset", "Record", "Epoch", "EpochState", "FileInfo", "make_sample", "SluiceError", "StaleRevision"]
__version__ = "0.1.0"
