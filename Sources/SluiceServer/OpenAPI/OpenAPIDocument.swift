/// The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.
///
/// A test holds it to the registered routes both ways: every route is described and
/// every described operation answers.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "Sluice API",
        "version": "1",
        "description": "Streaming access to annotated training data: projects, datasets, files, labels and instances."
      },
      "servers": [{"url": "http://127.0.0.1:8085"}],
      "security": [{}, {"bearerKey": []}, {"basicKey": []}],
      "paths": {
        "/api/v1/projects": {
          "get": {"operationId": "listProjects", "summary": "List projects",
            "responses": {"200": {"description": "Projects", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Project"}}}}}}},
          "post": {"operationId": "createProject", "summary": "Create a project (server admin key), or return an existing one (its editor key)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"}, "name": {"type": "string"}, "public": {"type": "boolean"}}}}}},
            "responses": {"201": {"description": "The project", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Project"}}}}, "400": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/projects/{project}": {
          "get": {"operationId": "getProject", "summary": "Get a project", "parameters": [{"$ref": "#/components/parameters/project"}],
            "responses": {"200": {"description": "The project", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Project"}}}}, "404": {"$ref": "#/components/responses/Error"}}},
          "patch": {"operationId": "editProject", "summary": "Make the project public or private (admin key of the project, or server admin)", "parameters": [{"$ref": "#/components/parameters/project"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["public"], "properties": {"public": {"type": "boolean"}}}}}},
            "responses": {"200": {"description": "The project", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Project"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/projects/{project}/datasets": {
          "get": {"operationId": "listDatasets", "summary": "List a project's datasets, optionally by name",
            "parameters": [{"$ref": "#/components/parameters/project"}, {"name": "name", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "Datasets", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Dataset"}}}}}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"operationId": "createDataset", "summary": "Create a dataset (or return the existing one)", "parameters": [{"$ref": "#/components/parameters/project"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}},
            "responses": {"201": {"description": "The dataset", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dataset"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/projects/{project}/labels": {
          "get": {"operationId": "listLabels", "summary": "The project's labels in id order (the order of tensor label indices)", "parameters": [{"$ref": "#/components/parameters/project"}],
            "responses": {"200": {"description": "Labels", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Label"}}}}}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"operationId": "createLabel", "summary": "Create a label (editors)", "parameters": [{"$ref": "#/components/parameters/project"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}, "color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}, "supercategory": {"type": "string"}, "keypoint_names": {"type": "array", "items": {"type": "string"}}, "skeleton": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}}}}}},
            "responses": {"201": {"description": "The label", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Label"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/FieldError"}}}
        },
        "/api/v1/projects/{project}/attribute-groups": {
          "get": {"operationId": "listAttributeGroups", "summary": "The project's attribute groups", "parameters": [{"$ref": "#/components/parameters/project"}],
            "responses": {"200": {"description": "Attribute groups", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/AttributeGroup"}}}}}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"operationId": "createAttributeGroup", "summary": "Create an attribute group (editors)", "parameters": [{"$ref": "#/components/parameters/project"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name", "kind"], "properties": {"name": {"type": "string", "minLength": 1}, "kind": {"enum": ["select", "multi_select", "text", "number", "boolean", "date"]}, "options": {"type": "array", "items": {"type": "string"}}}}}}},
            "responses": {"201": {"description": "The group", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AttributeGroup"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/FieldError"}}}
        },
        "/api/v1/projects/{project}/attribute-groups/{group}": {
          "patch": {"operationId": "editAttributeGroup", "summary": "Rename a group (only one no instance carries: values are keyed by name) or replace its options", "parameters": [{"$ref": "#/components/parameters/project"}, {"name": "group", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"name": {"type": "string", "minLength": 1}, "options": {"type": "array", "items": {"type": "string"}}}}}}},
            "responses": {"200": {"description": "The group", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AttributeGroup"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/FieldError"}}},
          "delete": {"operationId": "deleteAttributeGroup", "summary": "Delete a group no instance carries (409 otherwise)", "parameters": [{"$ref": "#/components/parameters/project"}, {"name": "group", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"204": {"description": "Deleted"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/datasets/{id}": {
          "get": {"operationId": "getDataset", "summary": "Get a dataset with its count and version", "parameters": [{"$ref": "#/components/parameters/datasetID"}],
            "responses": {"200": {"description": "The dataset", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dataset"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/datasets/{id}/count": {
          "get": {"operationId": "countDataset", "summary": "Number of files in a dataset", "parameters": [{"$ref": "#/components/parameters/datasetID"}, {"$ref": "#/components/parameters/version"}],
            "responses": {"200": {"description": "The count", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Count"}}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/datasets/{id}/items": {
          "get": {"operationId": "listItems", "summary": "Items at positions [start, end), clipped to the dataset and to the server's page limit",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}, {"$ref": "#/components/parameters/version"}, {"name": "start", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}}, {"name": "end", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": {"description": "A page of items", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemPage"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/datasets/{id}/changes": {
          "get": {"operationId": "listChanges", "summary": "The dataset's change feed after a cursor, long-polled: with nothing after since, waits up to wait seconds and answers as soon as a change commits, else with no changes and the same cursor",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}, {"name": "since", "in": "query", "description": "The cursor of a previous reply; without it the feed starts at its current end", "schema": {"type": "integer", "minimum": 0}}, {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}}, {"name": "wait", "in": "query", "description": "Seconds to wait for a change; longer waits are cut to 60", "schema": {"type": "number", "minimum": 0, "default": 0}}],
            "responses": {"200": {"description": "Changes after the cursor, oldest first, and the cursor to continue from", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChangePage"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/datasets/{id}/export": {
          "get": {"operationId": "exportDataset", "summary": "The dataset, or the slice that query selects, as one COCO or sluice-json document, streamed as a chunked response (constant memory on the server)",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}, {"name": "format", "in": "query", "schema": {"enum": ["coco", "sluice-json"], "default": "sluice-json"}}, {"name": "query", "in": "query", "description": "A slice query; only the items it selects are exported", "schema": {"type": "string"}}, {"name": "version", "in": "query", "description": "The dataset version to export: a version number or a snapshot name (default: the current one); 404 version_not_found when the store has no record of it", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "coco: an object with info, categories, images and annotations, ids given back from the imported file when they are unique; sluice-json: {format, format_version, dataset, labels, count, items} with items in the wire format of Item. Headers Sluice-Count (items exported) and Sluice-Version.", "content": {"application/json": {"schema": {"type": "object"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/datasets/{id}/snapshots": {
          "get": {"operationId": "listSnapshots", "summary": "The dataset's snapshots, oldest first", "parameters": [{"$ref": "#/components/parameters/datasetID"}],
            "responses": {"200": {"description": "Snapshots", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Snapshot"}}}}}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"operationId": "createSnapshot", "summary": "Pin the dataset's current version under a name: reads at it return the same items forever", "parameters": [{"$ref": "#/components/parameters/datasetID"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "description": "Not a number (numbers name versions)"}}}}}},
            "responses": {"201": {"description": "The snapshot", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Snapshot"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/datasets/{id}/tags": {
          "get": {"operationId": "listDatasetTags", "summary": "The dataset's tags, in byte order: what a query tests as dataset.tag (Diffgram's dataset_tag.tag)", "parameters": [{"$ref": "#/components/parameters/datasetID"}],
            "responses": {"200": {"description": "The tags", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DatasetTags"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"operationId": "addDatasetTags", "summary": "Add tags to the dataset (editor key); tags it has already stay. No item, version or change feed moves; slices that test dataset.tag are computed again",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["tags"], "properties": {"tags": {"type": "array", "items": {"type": "string", "minLength": 1, "description": "1 to 256 bytes of UTF-8, no control characters"}, "examples": [["reviewed", "night"]]}}}}}},
            "responses": {"200": {"description": "The dataset's tags now", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DatasetTags"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/FieldError"}}}
        },
        "/api/v1/datasets/{id}/tags/{tag}": {
          "delete": {"operationId": "removeDatasetTag", "summary": "Remove one tag from the dataset (editor key)",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}, {"name": "tag", "in": "path", "required": true, "description": "The tag, percent-encoded", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The dataset's tags left", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DatasetTags"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"description": "No such dataset, or the dataset has no such tag", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}
        },
        "/api/v1/datasets/{id}/diff": {
          "get": {"operationId": "diffVersions", "summary": "Files and instances added, removed or changed between two versions, in position order, as a chunked NDJSON stream",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}, {"name": "from", "in": "query", "description": "A version number or snapshot name (default: 0, the dataset when created, empty)", "schema": {"type": "string"}}, {"name": "to", "in": "query", "description": "A version number or snapshot name (default: the current version)", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "One VersionDiffEntry per line", "content": {"application/x-ndjson": {"schema": {"$ref": "#/components/schemas/VersionDiffEntry"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/datasets/{id}/items/{position}": {
          "get": {"operationId": "getItem", "summary": "The item at one position",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}, {"$ref": "#/components/parameters/version"}, {"name": "position", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": {"description": "The item", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/datasets/{id}/slices": {
          "post": {"operationId": "createSlice", "summary": "A query over the dataset, materialised once per dataset version",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["query"], "properties": {"query": {"type": "string", "examples": ["labels.cat > 3 and file.width >= 640"]}, "version": {"type": "string", "description": "Pin the slice to this version (a number or a snapshot name): its positions and items are that version's forever"}}}}}},
            "responses": {"201": {"description": "The slice", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Slice"}}}}, "400": {"description": "A bad query: detail gives the column, the closest names and a caret excerpt", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/slices/{token}": {
          "get": {"operationId": "getSlice", "summary": "A slice with its count at the dataset's current version", "parameters": [{"$ref": "#/components/parameters/sliceToken"}],
            "responses": {"200": {"description": "The slice", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Slice"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/slices/{token}/count": {
          "get": {"operationId": "countSlice", "summary": "Number of items in a slice", "parameters": [{"$ref": "#/components/parameters/sliceToken"}],
            "responses": {"200": {"description": "The count", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Count"}}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/slices/{token}/items": {
          "get": {"operationId": "listSliceItems", "summary": "Items at slice positions [start, end), positions renumbered within the slice",
            "parameters": [{"$ref": "#/components/parameters/sliceToken"}, {"name": "start", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}}, {"name": "end", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": {"description": "A page of items", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemPage"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/slices/{token}/items/{position}": {
          "get": {"operationId": "getSliceItem", "summary": "The item at one slice position",
            "parameters": [{"$ref": "#/components/parameters/sliceToken"}, {"name": "position", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": {"description": "The item", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/datasets/{id}/stream": {
          "get": {"operationId": "streamDataset", "summary": "A range [start, end) of an epoch's order of the dataset (shuffled, sharded, after earlier runs), as a chunked stream",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}, {"$ref": "#/components/parameters/version"}, {"$ref": "#/components/parameters/streamStart"}, {"$ref": "#/components/parameters/streamEnd"}, {"$ref": "#/components/parameters/streamCount"}, {"$ref": "#/components/parameters/seed"}, {"$ref": "#/components/parameters/epoch"}, {"$ref": "#/components/parameters/blockSize"}, {"$ref": "#/components/parameters/rank"}, {"$ref": "#/components/parameters/worldSize"}, {"$ref": "#/components/parameters/tail"}, {"$ref": "#/components/parameters/consumed"}, {"$ref": "#/components/parameters/streamFormat"}],
            "responses": {"200": {"description": "The items of the range in order: one JSON item per line (ndjson), or per item a u64 little-endian length and a safetensors record: for records, an item tensor (U8) holding the item JSON and an image tensor (U8) holding the media bytes; for tensors, the standard keys boxes [N,4] F32, labels, label_ids, iscrowd [N] I64, area [N] F32, image_id [1] I64, polygon_xy [P,2] F32, polygon_ring_offsets, polygon_offsets I64, keypoints [N,K,3] F32 and image (U8), with __metadata__ file_id, position, name, type, width, height, mime_type and label_names (a JSON array parallel to labels). Headers Sluice-Start, Sluice-End, Sluice-Length, Sluice-Count, Sluice-Version describe the range.", "content": {"application/x-ndjson": {"schema": {"$ref": "#/components/schemas/Item"}}, "application/vnd.sluice.records": {"schema": {"type": "string", "format": "binary"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/slices/{token}/stream": {
          "get": {"operationId": "streamSlice", "summary": "A range [start, end) of an epoch's order of the slice, as a chunked stream; version pins the slice an epoch started with",
            "parameters": [{"$ref": "#/components/parameters/sliceToken"}, {"$ref": "#/components/parameters/streamStart"}, {"$ref": "#/components/parameters/streamEnd"}, {"$ref": "#/components/parameters/streamCount"}, {"$ref": "#/components/parameters/seed"}, {"$ref": "#/components/parameters/epoch"}, {"$ref": "#/components/parameters/blockSize"}, {"$ref": "#/components/parameters/rank"}, {"$ref": "#/components/parameters/worldSize"}, {"$ref": "#/components/parameters/tail"}, {"$ref": "#/components/parameters/consumed"}, {"$ref": "#/components/parameters/streamFormat"}, {"name": "version", "in": "query", "schema": {"type": "integer"}, "description": "The dataset version the epoch started at (default: now): the epoch reads that version's positions and items; 409 version_changed when the store has no record of it"}],
            "responses": {"200": {"description": "The items of the range in order: one JSON item per line (ndjson), or per item a u64 little-endian length and a safetensors record: for records, an item tensor (U8) holding the item JSON and an image tensor (U8) holding the media bytes; for tensors, the standard keys boxes [N,4] F32, labels, label_ids, iscrowd [N] I64, area [N] F32, image_id [1] I64, polygon_xy [P,2] F32, polygon_ring_offsets, polygon_offsets I64, keypoints [N,K,3] F32 and image (U8), with __metadata__ file_id, position, name, type, width, height, mime_type and label_names (a JSON array parallel to labels). Headers Sluice-Start, Sluice-End, Sluice-Length, Sluice-Count, Sluice-Version describe the range.", "content": {"application/x-ndjson": {"schema": {"$ref": "#/components/schemas/Item"}}, "application/vnd.sluice.records": {"schema": {"type": "string", "format": "binary"}}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/slices/{token}/explain": {
          "get": {"operationId": "explainSlice", "summary": "The SQL of a slice and the database's plan for it", "parameters": [{"$ref": "#/components/parameters/sliceToken"}],
            "responses": {"200": {"description": "SQL and plan", "content": {"application/json": {"schema": {"type": "object", "required": ["sql", "plan"], "properties": {"sql": {"type": "string"}, "plan": {"type": "array", "items": {"type": "string"}}}}}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/files/{id}": {
          "get": {"operationId": "getFile", "summary": "A file's record", "parameters": [{"$ref": "#/components/parameters/fileID"}],
            "responses": {"200": {"description": "The file", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/File"}}}}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/files/{id}/media": {
          "get": {"operationId": "getMedia", "summary": "A file's media bytes; supports ETag/If-None-Match and single byte ranges",
            "parameters": [{"$ref": "#/components/parameters/fileID"}, {"name": "Range", "in": "header", "schema": {"type": "string"}}, {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The bytes", "content": {"application/octet-stream": {}}}, "206": {"description": "A range of the bytes"}, "304": {"description": "Not modified"}, "404": {"$ref": "#/components/responses/Error"}, "416": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/projects/{project}/media/{sha256}": {
          "head": {"operationId": "hasMedia", "summary": "Whether the server holds media bytes of this SHA-256 (upload only what it lacks); editors", "parameters": [{"$ref": "#/components/parameters/project"}, {"$ref": "#/components/parameters/sha256"}],
            "responses": {"200": {"description": "Held: Content-Length and Content-Type are the bytes'"}, "404": {"description": "Not held"}, "401": {"description": "No key"}, "403": {"description": "Not an editor key of the project"}}},
          "put": {"operationId": "putMedia", "summary": "Upload media bytes as the raw body, checked against the SHA-256 in the path; the type is read from the bytes",
            "parameters": [{"$ref": "#/components/parameters/project"}, {"$ref": "#/components/parameters/sha256"}],
            "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": {"description": "Held already: nothing stored again", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoredMedia"}}}}, "201": {"description": "Stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoredMedia"}}}}, "400": {"description": "sha256_mismatch: the bytes hash to detail.sha256", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/projects/{project}/media": {
          "post": {"operationId": "uploadMedia", "summary": "Upload media bytes as multipart/form-data (the part named file, or the first with a filename); the type is read from the bytes",
            "parameters": [{"$ref": "#/components/parameters/project"}],
            "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"201": {"description": "Stored (or held already)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoredMedia"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/datasets/{id}/files": {
          "post": {"operationId": "appendFiles", "summary": "Append files (media by SHA-256, already uploaded) with their instances, in one transaction: all or none; one version, one added change",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["files"], "properties": {"files": {"type": "array", "maxItems": 10000, "items": {"$ref": "#/components/schemas/FileDraft"}}, "create_labels": {"type": "boolean", "default": false, "description": "Create labels that instances name and the project lacks"}}}}}},
            "responses": {"201": {"description": "Where each file landed", "content": {"application/json": {"schema": {"type": "object", "required": ["files"], "properties": {"files": {"type": "array", "items": {"type": "object", "required": ["position", "file"], "properties": {"position": {"type": "integer"}, "file": {"$ref": "#/components/schemas/File"}}}}}}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/FieldError"}}}
        },
        "/api/v1/datasets/{id}/files/{file}": {
          "delete": {"operationId": "removeFile", "summary": "Remove a file from the dataset: its position stays and reads as removed (count keeps it, removed counts it; [i] answers 410; iteration, slices and exports skip it; versions before keep it)",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}, {"name": "file", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": {"description": "The dataset", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dataset"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/FieldError"}}}
        },
        "/api/v1/datasets/{id}/files/copy": {
          "post": {"operationId": "copyFiles", "summary": "Append files of the project to this dataset (shared, not duplicated), in one transaction; with move, remove them from the dataset from (Diffgram's copy and move between directories)",
            "parameters": [{"$ref": "#/components/parameters/datasetID"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["file_ids"], "properties": {"file_ids": {"type": "array", "maxItems": 10000, "items": {"type": "integer", "minimum": 0}}, "from": {"type": "integer", "minimum": 0, "description": "The dataset the files leave (with move)"}, "move": {"type": "boolean", "default": false}}}}}},
            "responses": {"201": {"description": "Where each file landed", "content": {"application/json": {"schema": {"type": "object", "required": ["files"], "properties": {"files": {"type": "array", "items": {"type": "object", "required": ["position", "file"], "properties": {"position": {"type": "integer"}, "file": {"$ref": "#/components/schemas/File"}}}}}}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/FieldError"}}}
        },
        "/api/v1/files/{id}/instances": {
          "get": {"operationId": "getAnnotation", "summary": "A file with its live instances; the ETag is the file's revision",
            "parameters": [{"$ref": "#/components/parameters/fileID"}],
            "responses": {"200": {"description": "The file and its instances", "headers": {"ETag": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnnotatedFile"}}}}, "404": {"$ref": "#/components/responses/Error"}}},
          "post": {"operationId": "addInstances", "summary": "Add instances to a file, in one transaction",
            "parameters": [{"$ref": "#/components/parameters/fileID"}, {"$ref": "#/components/parameters/ifMatch"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InstanceList"}}}},
            "responses": {"201": {"description": "The file as it now is", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnnotatedFile"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "412": {"$ref": "#/components/responses/RevisionMismatch"}, "422": {"$ref": "#/components/responses/FieldError"}}},
          "put": {"operationId": "replaceInstances", "summary": "Replace the file's whole annotation (an annotation tool's save), in one transaction",
            "parameters": [{"$ref": "#/components/parameters/fileID"}, {"$ref": "#/components/parameters/ifMatch"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InstanceList"}}}},
            "responses": {"200": {"description": "The file as it now is", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnnotatedFile"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "412": {"$ref": "#/components/responses/RevisionMismatch"}, "422": {"$ref": "#/components/responses/FieldError"}}}
        },
        "/api/v1/files/{id}/instances/{instance}": {
          "patch": {"operationId": "changeInstance", "summary": "Replace one instance; the new state gets a new id (the old row stays for earlier versions)",
            "parameters": [{"$ref": "#/components/parameters/fileID"}, {"$ref": "#/components/parameters/instanceID"}, {"$ref": "#/components/parameters/ifMatch"}, {"name": "create_labels", "in": "query", "schema": {"type": "boolean", "default": false}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InstanceDraft"}}}},
            "responses": {"200": {"description": "The file as it now is", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnnotatedFile"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "412": {"$ref": "#/components/responses/RevisionMismatch"}, "422": {"$ref": "#/components/responses/FieldError"}}},
          "delete": {"operationId": "deleteInstance", "summary": "Delete one instance (earlier versions keep it)",
            "parameters": [{"$ref": "#/components/parameters/fileID"}, {"$ref": "#/components/parameters/instanceID"}, {"$ref": "#/components/parameters/ifMatch"}],
            "responses": {"200": {"description": "The file as it now is", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnnotatedFile"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "412": {"$ref": "#/components/responses/RevisionMismatch"}}}
        },
        "/api/v1/projects/{project}/labels/{label}": {
          "patch": {"operationId": "editLabel", "summary": "Rename a label (items of its instances change; earlier versions keep the old name) or change its colour",
            "parameters": [{"$ref": "#/components/parameters/project"}, {"name": "label", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"name": {"type": "string", "minLength": 1}, "color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}}}}}},
            "responses": {"200": {"description": "The label", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Label"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/FieldError"}}},
          "delete": {"operationId": "deleteLabel", "summary": "Delete a label no live instance carries (409 otherwise); its tensor index stays taken, earlier versions still list it",
            "parameters": [{"$ref": "#/components/parameters/project"}, {"name": "label", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"204": {"description": "Deleted"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/projects/{project}/keys": {
          "post": {"operationId": "createKey", "summary": "Create an API key of the project (admin key of the project, or server admin); the secret is in this reply only",
            "parameters": [{"$ref": "#/components/parameters/project"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["role"], "properties": {"role": {"enum": ["viewer", "editor", "admin"]}}}}}},
            "responses": {"201": {"description": "The key", "content": {"application/json": {"schema": {"type": "object", "required": ["client_id", "role", "key"], "properties": {"client_id": {"type": "string"}, "role": {"type": "string"}, "key": {"type": "string", "description": "client_id:secret"}}}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
        },
        "/api/v1/projects/{project}/imports/coco": {
          "post": {"operationId": "importCOCO", "summary": "Import a COCO file uploaded before (PUT /media/{sha256}) into a dataset (created when missing), in one transaction; images come from the media list upload (lines sha256<TAB>file_name). What sluice import coco --host does",
            "parameters": [{"$ref": "#/components/parameters/project"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["dataset", "annotations_sha256"], "properties": {"dataset": {"type": "string", "minLength": 1}, "annotations_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "media_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}}}}},
            "responses": {"200": {"description": "NDJSON: {progress: {bytes_read, total_bytes, files, instances, elapsed, finishing, line}} about twice a second, then one {summary: {dataset_id, files, instances, labels, media, seconds}} or {error: {code, message}} (the fault's JSON path and line; nothing kept). A client that disconnects stops the import and nothing is kept", "content": {"application/x-ndjson": {"schema": {"type": "object"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/FieldError"}}}
        },
        "/api/v1/openapi.json": {
          "get": {"operationId": "getOpenAPI", "summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}}}
        }
      },
      "components": {
        "securitySchemes": {
          "bearerKey": {"type": "http", "scheme": "bearer", "description": "An API key as `client_id:secret` (from `sluice keys create`). Public projects read without one; private reads need a key of the project (401 without, 403 with another project's); writes need an editor key."},
          "basicKey": {"type": "http", "scheme": "basic", "description": "The same key as HTTP Basic: user client_id, password secret (Diffgram's scheme)."}
        },
        "parameters": {
          "project": {"name": "project", "in": "path", "required": true, "schema": {"type": "string"}},
          "datasetID": {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}},
          "version": {"name": "version", "in": "query", "description": "Read the dataset as it was at this version: a version number or a snapshot name (default: now); 404 version_not_found when the store has no record of it", "schema": {"type": "string"}},
          "fileID": {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}},
          "sha256": {"name": "sha256", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
          "instanceID": {"name": "instance", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}},
          "ifMatch": {"name": "If-Match", "in": "header", "description": "The file revision the write is based on (the ETag of the last read); a file at another revision answers 412", "schema": {"type": "string"}},
          "sliceToken": {"name": "token", "in": "path", "required": true, "schema": {"type": "string"}, "description": "The id a slice was created with"},
          "streamStart": {"name": "start", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}, "description": "First index of the order"},
          "streamEnd": {"name": "end", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "One past the last index (default and upper bound: the order's length)"},
          "streamCount": {"name": "count", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "Positions the epoch covers (default: the count now)"},
          "seed": {"name": "seed", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "Shuffle seed (unsigned 64-bit); absent: position order"},
          "epoch": {"name": "epoch", "in": "query", "schema": {"type": "integer", "default": 0}},
          "blockSize": {"name": "block_size", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}, "description": "Shuffle blocks of this many neighbours (0: every item on its own)"},
          "rank": {"name": "rank", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
          "worldSize": {"name": "world_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
          "tail": {"name": "tail", "in": "query", "schema": {"type": "string", "enum": ["keep", "drop", "pad"], "default": "keep"}},
          "consumed": {"name": "consumed", "in": "query", "schema": {"type": "string", "pattern": "^\\d+:\\d+(,\\d+)*(;\\d+:\\d+(,\\d+)*)*$"}, "description": "Earlier runs of the epoch, oldest first: 'world size:count of rank 0,count of rank 1,…' separated by ';'"},
          "streamFormat": {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["ndjson", "records", "tensors"], "default": "ndjson"}}
        },
        "responses": {
          "Error": {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "FieldError": {"description": "A value refused: error.detail.field is the path of the field at fault (files[2].instances[0].bbox)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "RevisionMismatch": {"description": "The file is at another revision than If-Match names: error.detail.revision and the ETag give the current one", "headers": {"ETag": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        },
        "schemas": {
          "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "detail": {}}}}},
          "Slice": {"type": "object", "required": ["id", "dataset_id", "query", "version", "count"], "properties": {"id": {"type": "string"}, "dataset_id": {"type": "integer"}, "query": {"type": "string", "description": "normalised"}, "version": {"type": "integer"}, "count": {"type": "integer"}}},
          "Count": {"type": "object", "required": ["count"], "properties": {"count": {"type": "integer"}}},
          "Project": {"type": "object", "required": ["id", "name", "public", "created_at"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "public": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"}}},
          "Dataset": {"type": "object", "required": ["id", "project_id", "name", "count", "version", "created_at"], "properties": {"id": {"type": "integer"}, "project_id": {"type": "string"}, "name": {"type": "string"}, "count": {"type": "integer", "description": "Positions: every file appended, removed ones included"}, "removed": {"type": "integer", "description": "Positions whose file was removed (count - removed files are in the dataset)"}, "version": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"}}},
          "Media": {"type": "object", "properties": {"sha256": {"type": "string"}, "mime_type": {"type": "string"}, "byte_size": {"type": "integer"}, "width": {"type": "integer"}, "height": {"type": "integer"}, "frame_count": {"type": "integer"}, "frame_rate": {"type": "number"}}},
          "File": {"type": "object", "required": ["id", "project_id", "type", "name", "media", "metadata", "status", "created_at", "updated_at", "revision"], "properties": {"id": {"type": "integer"}, "project_id": {"type": "string"}, "type": {"enum": ["image", "video", "frame", "text"]}, "name": {"type": "string"}, "media": {"$ref": "#/components/schemas/Media"}, "metadata": {"type": "object"}, "status": {"enum": ["pending", "in_progress", "complete"]}, "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}, "revision": {"type": "integer", "description": "Sequence number of the last change to the file's item (fields or instances); 0 when unchanged since change tracking began"}}},
          "Label": {"type": "object", "required": ["id", "name", "color"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "color": {"type": "string"}, "supercategory": {"type": "string"}, "keypoint_names": {"type": "array", "items": {"type": "string"}}, "skeleton": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}, "index": {"type": "integer", "minimum": 0, "description": "The label's value in tensor labels: its place among every label the project has had, in id order (a deleted label keeps its place)"}}},
          "AttributeGroup": {"type": "object", "required": ["id", "name", "kind", "options"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"enum": ["select", "multi_select", "text", "number", "boolean", "date"]}, "options": {"type": "array", "items": {"type": "string"}}}},
          "Geometry": {"type": "object", "properties": {"polygon": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}, "mask": {"type": "object", "properties": {"size": {"type": "array", "items": {"type": "integer"}}, "counts": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "integer"}}]}}}, "keypoints": {"type": "array", "items": {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}}, "points": {"type": "array"}, "line": {"type": "array"}, "ellipse": {"type": "object"}, "cuboid": {"type": "object"}}},
          "Instance": {"type": "object", "required": ["id", "file_id", "kind", "geometry", "iscrowd", "attributes", "metadata", "created_at", "updated_at", "deleted"], "properties": {"id": {"type": "integer"}, "file_id": {"type": "integer"}, "label_id": {"type": "integer"}, "label": {"type": "string"}, "kind": {"enum": ["box", "polygon", "mask", "point", "line", "keypoints", "ellipse", "cuboid", "global"]}, "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4, "description": "x_min, y_min, x_max, y_max"}, "geometry": {"$ref": "#/components/schemas/Geometry"}, "area": {"type": "number"}, "iscrowd": {"type": "boolean"}, "score": {"type": "number"}, "frame": {"type": "integer"}, "track": {"type": "integer"}, "attributes": {"type": "object"}, "metadata": {"type": "object"}, "creator": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}, "deleted": {"type": "boolean"}}},
          "Item": {"type": "object", "required": ["position", "file", "instances"], "properties": {"position": {"type": "integer"}, "file": {"$ref": "#/components/schemas/File"}, "instances": {"type": "array", "items": {"$ref": "#/components/schemas/Instance"}}, "removed": {"type": "boolean", "description": "Present and true at a position whose file was removed from the dataset: pages, streams and the change feed show it so; iteration skips it"}}},
          "ItemPage": {"type": "object", "required": ["dataset_id", "start", "end", "count", "items"], "properties": {"dataset_id": {"type": "integer"}, "start": {"type": "integer"}, "end": {"type": "integer"}, "count": {"type": "integer"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}},
          "DatasetChange": {"type": "object", "required": ["seq", "kind", "start", "end"], "properties": {"seq": {"type": "integer"}, "kind": {"enum": ["added", "changed", "removed"]}, "start": {"type": "integer", "description": "First position"}, "end": {"type": "integer", "description": "One past the last position"}}},
          "DatasetTags": {"type": "object", "required": ["dataset_id", "tags"], "properties": {"dataset_id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}, "description": "In byte order"}}},
          "Snapshot": {"type": "object", "required": ["id", "dataset_id", "name", "version", "count", "created_at"], "properties": {"id": {"type": "integer"}, "dataset_id": {"type": "integer"}, "name": {"type": "string"}, "version": {"type": "integer", "description": "The dataset version it pins"}, "count": {"type": "integer", "description": "Files at that version"}, "created_at": {"type": "string", "format": "date-time"}}},
          "VersionDiffEntry": {"type": "object", "required": ["kind", "position", "file_id"], "properties": {"kind": {"enum": ["file_added", "file_removed", "file_changed", "instance_added", "instance_removed"]}, "position": {"type": "integer"}, "file_id": {"type": "integer"}, "instance_id": {"type": "integer"}}},
          "StoredMedia": {"type": "object", "required": ["sha256", "mime_type", "byte_size", "type"], "properties": {"sha256": {"type": "string"}, "mime_type": {"type": "string"}, "byte_size": {"type": "integer"}, "type": {"enum": ["image", "video", "text", null]}, "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]}}},
          "InstanceDraft": {"type": "object", "required": ["kind"], "properties": {"label": {"type": "string", "description": "The label's name"}, "label_id": {"type": "integer"}, "kind": {"enum": ["box", "polygon", "mask", "point", "line", "keypoints", "ellipse", "cuboid", "global"]}, "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4, "description": "x_min, y_min, x_max, y_max in pixels; required for box"}, "geometry": {"$ref": "#/components/schemas/Geometry"}, "area": {"type": "number", "minimum": 0}, "iscrowd": {"type": "boolean"}, "score": {"type": "number"}, "frame": {"type": "integer", "minimum": 0}, "track": {"type": "integer", "minimum": 0}, "attributes": {"type": "object"}, "metadata": {"type": "object"}, "creator": {"type": "string"}}},
          "InstanceList": {"type": "object", "required": ["instances"], "properties": {"instances": {"type": "array", "items": {"$ref": "#/components/schemas/InstanceDraft"}}, "create_labels": {"type": "boolean", "default": false}}},
          "FileDraft": {"type": "object", "required": ["name", "sha256"], "properties": {"name": {"type": "string", "minLength": 1}, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "type": {"enum": ["image", "video", "frame", "text"]}, "metadata": {"type": "object"}, "status": {"enum": ["pending", "in_progress", "complete"]}, "instances": {"type": "array", "items": {"$ref": "#/components/schemas/InstanceDraft"}}}},
          "AnnotatedFile": {"type": "object", "required": ["file", "instances"], "properties": {"file": {"$ref": "#/components/schemas/File"}, "instances": {"type": "array", "items": {"$ref": "#/components/schemas/Instance"}}}},
          "ChangePage": {"type": "object", "required": ["dataset_id", "cursor", "changes"], "properties": {"dataset_id": {"type": "integer"}, "cursor": {"type": "integer", "description": "Pass as since to continue"}, "changes": {"type": "array", "items": {"$ref": "#/components/schemas/DatasetChange"}}}}
        }
      }
    }
    """#
}
