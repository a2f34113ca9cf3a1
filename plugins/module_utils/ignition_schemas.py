# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The schema data below is from the coreos/ignition project (https://github.com/coreos/ignition),
# Copyright Red Hat, Inc. and the Ignition authors, licensed under the Apache License 2.0
# (https://www.apache.org/licenses/LICENSE-2.0): config/v3_N/schema/ignition.json at commit a5d574a8 and
# schema/ignition.json of the spec2x branch (the 2.x spec), copied verbatim (JSON is valid Python here:
# the schemas hold no true/false/null literals).
"""JSON schemas of the Ignition config specs the ignition filter emits, keyed by spec version.

Vendored so the collection validates its output without network access or files outside the collection.
The 2.x schema (spec2x branch) covers every 2.x version; it is used for 2.3.0.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# pylint: disable=too-many-lines


SCHEMA_2_3_0 = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "ignition",
    "type": "object",
    "properties": {
        "ignition": {
            "$ref": "#/definitions/ignition"
        },
        "storage": {
            "$ref": "#/definitions/storage"
        },
        "systemd": {
            "$ref": "#/definitions/systemd"
        },
        "networkd": {
            "$ref": "#/definitions/networkd"
        },
        "passwd": {
            "$ref": "#/definitions/passwd"
        }
    },
    "required": [
        "ignition"
    ],
    "definitions": {
        "verification": {
            "type": "object",
            "properties": {
                "hash": {
                    "type": [
                        "string",
                        "null"
                    ]
                }
            }
        },
        "httpHeaders": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {
                        "type": "string"
                    },
                    "value": {
                        "type": "string"
                    }
                },
                "required": [
                    "name",
                    "value"
                ]
            }
        },
        "ignition": {
            "type": "object",
            "properties": {
                "version": {
                    "type": "string"
                },
                "config": {
                    "$ref": "#/definitions/ignition/definitions/ignition-config"
                },
                "timeouts": {
                    "$ref": "#/definitions/ignition/definitions/timeouts"
                },
                "security": {
                    "$ref": "#/definitions/ignition/definitions/security"
                },
                "proxy": {
                    "$ref": "#/definitions/ignition/definitions/proxy"
                }
            },
            "definitions": {
                "ignition-config": {
                    "type": "object",
                    "properties": {
                        "append": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/ignition/definitions/config-reference"
                            }
                        },
                        "replace": {
                            "$ref": "#/definitions/ignition/definitions/config-reference"
                        }
                    }
                },
                "security": {
                    "type": "object",
                    "properties": {
                        "tls": {
                            "type": "object",
                            "properties": {
                                "certificateAuthorities": {
                                    "type": "array",
                                    "items": {
                                        "$ref": "#/definitions/ignition/definitions/ca-reference"
                                    }
                                }
                            }
                        }
                    }
                },
                "proxy": {
                    "type": "object",
                    "properties": {
                        "httpProxy": {
                            "type": "string"
                        },
                        "httpsProxy": {
                            "type": "string"
                        },
                        "noProxy": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        }
                    }
                },
                "config-reference": {
                    "type": [
                        "object",
                        "null"
                    ],
                    "properties": {
                        "source": {
                            "type": "string"
                        },
                        "httpHeaders": {
                            "$ref": "#/definitions/httpHeaders"
                        },
                        "verification": {
                            "$ref": "#/definitions/verification"
                        }
                    },
                    "required": [
                        "source"
                    ]
                },
                "ca-reference": {
                    "type": [
                        "object",
                        "null"
                    ],
                    "properties": {
                        "source": {
                            "type": "string"
                        },
                        "httpHeaders": {
                            "$ref": "#/definitions/httpHeaders"
                        },
                        "verification": {
                            "$ref": "#/definitions/verification"
                        }
                    },
                    "required": [
                        "source"
                    ]
                },
                "timeouts": {
                    "type": "object",
                    "properties": {
                        "httpResponseHeaders": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "httpTotal": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        }
                    }
                }
            }
        },
        "storage": {
            "type": "object",
            "properties": {
                "disks": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/disk"
                    }
                },
                "raid": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/raid"
                    }
                },
                "filesystems": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/filesystem"
                    }
                },
                "files": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/file"
                    }
                },
                "directories": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/directory"
                    }
                },
                "links": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/link"
                    }
                }
            },
            "definitions": {
                "disk": {
                    "type": "object",
                    "properties": {
                        "device": {
                            "type": "string"
                        },
                        "wipeTable": {
                            "type": "boolean"
                        },
                        "partitions": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/storage/definitions/partition"
                            }
                        }
                    },
                    "required": [
                        "device"
                    ]
                },
                "raid": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "level": {
                            "type": "string"
                        },
                        "spares": {
                            "type": "integer"
                        },
                        "devices": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        }
                    },
                    "required": [
                        "name",
                        "level",
                        "devices"
                    ]
                },
                "filesystem": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "mount": {
                            "$ref": "#/definitions/storage/definitions/mount"
                        },
                        "path": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    }
                },
                "file": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "mode": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "contents": {
                                    "$ref": "#/definitions/storage/definitions/file-contents"
                                },
                                "append": {
                                    "type": "boolean"
                                }
                            }
                        }
                    ]
                },
                "directory": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "mode": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                }
                            }
                        }
                    ]
                },
                "link": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "target": {
                                    "type": "string"
                                },
                                "hard": {
                                    "type": "boolean"
                                }
                            },
                            "required": [
                                "target"
                            ]
                        }
                    ]
                },
                "partition": {
                    "type": "object",
                    "properties": {
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "number": {
                            "type": "integer"
                        },
                        "size": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "start": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "sizeMiB": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "startMiB": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "typeGuid": {
                            "type": "string"
                        },
                        "guid": {
                            "type": "string"
                        },
                        "wipePartitionEntry": {
                            "type": "boolean"
                        },
                        "shouldExist": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    }
                },
                "mount": {
                    "type": [
                        "object",
                        "null"
                    ],
                    "properties": {
                        "device": {
                            "type": "string"
                        },
                        "format": {
                            "type": "string"
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "wipeFilesystem": {
                            "type": "boolean"
                        },
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "uuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "create": {
                            "type": [
                                "object",
                                "null"
                            ],
                            "properties": {
                                "force": {
                                    "type": "boolean"
                                },
                                "options": {
                                    "type": "array",
                                    "items": {
                                        "type": "string"
                                    }
                                }
                            }
                        }
                    },
                    "required": [
                        "device",
                        "format"
                    ]
                },
                "file-contents": {
                    "type": "object",
                    "properties": {
                        "compression": {
                            "type": "string"
                        },
                        "source": {
                            "type": "string"
                        },
                        "httpHeaders": {
                            "$ref": "#/definitions/httpHeaders"
                        },
                        "verification": {
                            "$ref": "#/definitions/verification"
                        }
                    }
                },
                "node": {
                    "type": "object",
                    "properties": {
                        "filesystem": {
                            "type": "string"
                        },
                        "path": {
                            "type": "string"
                        },
                        "overwrite": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "user": {
                            "type": [
                                "object",
                                "null"
                            ],
                            "properties": {
                                "id": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "name": {
                                    "type": "string"
                                }
                            }
                        },
                        "group": {
                            "type": [
                                "object",
                                "null"
                            ],
                            "properties": {
                                "id": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "name": {
                                    "type": "string"
                                }
                            }
                        }
                    },
                    "required": [
                        "filesystem",
                        "path"
                    ]
                }
            }
        },
        "systemd": {
            "type": "object",
            "properties": {
                "units": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/systemd/definitions/unit"
                    }
                }
            },
            "definitions": {
                "unit": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "enable": {
                            "type": "boolean"
                        },
                        "enabled": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "mask": {
                            "type": "boolean"
                        },
                        "contents": {
                            "type": "string"
                        },
                        "dropins": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/systemd/definitions/dropin"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "dropin": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "contents": {
                            "type": "string"
                        }
                    },
                    "required": [
                        "name"
                    ]
                }
            }
        },
        "networkd": {
            "type": "object",
            "properties": {
                "units": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/networkd/definitions/networkdunit"
                    }
                }
            },
            "definitions": {
                "networkdunit": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "contents": {
                            "type": "string"
                        },
                        "dropins": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/networkd/definitions/dropin"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "dropin": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "contents": {
                            "type": "string"
                        }
                    },
                    "required": [
                        "name"
                    ]
                }
            }
        },
        "passwd": {
            "type": "object",
            "properties": {
                "users": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/passwd/definitions/user"
                    }
                },
                "groups": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/passwd/definitions/group"
                    }
                }
            },
            "definitions": {
                "user": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "passwordHash": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "sshAuthorizedKeys": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "uid": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "gecos": {
                            "type": "string"
                        },
                        "homeDir": {
                            "type": "string"
                        },
                        "noCreateHome": {
                            "type": "boolean"
                        },
                        "primaryGroup": {
                            "type": "string"
                        },
                        "groups": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "noUserGroup": {
                            "type": "boolean"
                        },
                        "system": {
                            "type": "boolean"
                        },
                        "noLogInit": {
                            "type": "boolean"
                        },
                        "shell": {
                            "type": "string"
                        },
                        "create": {
                            "$ref": "#/definitions/passwd/definitions/usercreate"
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "group": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "gid": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "passwordHash": {
                            "type": "string"
                        },
                        "system": {
                            "type": "boolean"
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "usercreate": {
                    "type": [
                        "object",
                        "null"
                    ],
                    "properties": {
                        "uid": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "gecos": {
                            "type": "string"
                        },
                        "homeDir": {
                            "type": "string"
                        },
                        "noCreateHome": {
                            "type": "boolean"
                        },
                        "primaryGroup": {
                            "type": "string"
                        },
                        "groups": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "noUserGroup": {
                            "type": "boolean"
                        },
                        "system": {
                            "type": "boolean"
                        },
                        "noLogInit": {
                            "type": "boolean"
                        },
                        "shell": {
                            "type": "string"
                        }
                    }
                }
            }
        }
    }
}


SCHEMA_3_0_0 = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "ignition",
    "type": "object",
    "properties": {
        "ignition": {
            "$ref": "#/definitions/ignition"
        },
        "storage": {
            "$ref": "#/definitions/storage"
        },
        "systemd": {
            "$ref": "#/definitions/systemd"
        },
        "passwd": {
            "$ref": "#/definitions/passwd"
        }
    },
    "required": [
        "ignition"
    ],
    "definitions": {
        "verification": {
            "type": "object",
            "properties": {
                "hash": {
                    "type": [
                        "string",
                        "null"
                    ]
                }
            }
        },
        "ignition": {
            "type": "object",
            "properties": {
                "version": {
                    "type": "string"
                },
                "config": {
                    "$ref": "#/definitions/ignition/definitions/ignition-config"
                },
                "timeouts": {
                    "$ref": "#/definitions/ignition/definitions/timeouts"
                },
                "security": {
                    "$ref": "#/definitions/ignition/definitions/security"
                }
            },
            "definitions": {
                "ignition-config": {
                    "type": "object",
                    "properties": {
                        "merge": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/ignition/definitions/config-reference"
                            }
                        },
                        "replace": {
                            "$ref": "#/definitions/ignition/definitions/config-reference"
                        }
                    }
                },
                "security": {
                    "type": "object",
                    "properties": {
                        "tls": {
                            "type": "object",
                            "properties": {
                                "certificateAuthorities": {
                                    "type": "array",
                                    "items": {
                                        "$ref": "#/definitions/ignition/definitions/ca-reference"
                                    }
                                }
                            }
                        }
                    }
                },
                "config-reference": {
                    "type": "object",
                    "properties": {
                        "source": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "verification": {
                            "$ref": "#/definitions/verification"
                        }
                    },
                    "required": [
                        "source"
                    ]
                },
                "ca-reference": {
                    "type": [
                        "object",
                        "null"
                    ],
                    "properties": {
                        "source": {
                            "type": "string"
                        },
                        "verification": {
                            "$ref": "#/definitions/verification"
                        }
                    },
                    "required": [
                        "source"
                    ]
                },
                "timeouts": {
                    "type": "object",
                    "properties": {
                        "httpResponseHeaders": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "httpTotal": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        }
                    }
                }
            }
        },
        "storage": {
            "type": "object",
            "properties": {
                "disks": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/disk"
                    }
                },
                "raid": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/raid"
                    }
                },
                "filesystems": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/filesystem"
                    }
                },
                "files": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/file"
                    }
                },
                "directories": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/directory"
                    }
                },
                "links": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/link"
                    }
                }
            },
            "definitions": {
                "disk": {
                    "type": "object",
                    "properties": {
                        "device": {
                            "type": "string"
                        },
                        "wipeTable": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "partitions": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/storage/definitions/partition"
                            }
                        }
                    },
                    "required": [
                        "device"
                    ]
                },
                "raid": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "level": {
                            "type": "string"
                        },
                        "spares": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "devices": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        }
                    },
                    "required": [
                        "name",
                        "level",
                        "devices"
                    ]
                },
                "filesystem": {
                    "type": "object",
                    "properties": {
                        "path": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "device": {
                            "type": "string"
                        },
                        "format": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "wipeFilesystem": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "uuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "device"
                    ]
                },
                "file": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "mode": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "contents": {
                                    "$ref": "#/definitions/storage/definitions/file-contents"
                                },
                                "append": {
                                    "type": "array",
                                    "items": {
                                        "$ref": "#/definitions/storage/definitions/file-contents"
                                    }
                                }
                            }
                        }
                    ]
                },
                "directory": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "mode": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                }
                            }
                        }
                    ]
                },
                "link": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "target": {
                                    "type": "string"
                                },
                                "hard": {
                                    "type": [
                                        "boolean",
                                        "null"
                                    ]
                                }
                            },
                            "required": [
                                "target"
                            ]
                        }
                    ]
                },
                "partition": {
                    "type": "object",
                    "properties": {
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "number": {
                            "type": "integer"
                        },
                        "sizeMiB": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "startMiB": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "typeGuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "guid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "wipePartitionEntry": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "shouldExist": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    }
                },
                "file-contents": {
                    "type": "object",
                    "properties": {
                        "compression": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "source": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "verification": {
                            "$ref": "#/definitions/verification"
                        }
                    }
                },
                "node": {
                    "type": "object",
                    "properties": {
                        "path": {
                            "type": "string"
                        },
                        "overwrite": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "user": {
                            "type": "object",
                            "properties": {
                                "id": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "name": {
                                    "type": [
                                        "string",
                                        "null"
                                    ]
                                }
                            }
                        },
                        "group": {
                            "type": "object",
                            "properties": {
                                "id": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "name": {
                                    "type": [
                                        "string",
                                        "null"
                                    ]
                                }
                            }
                        }
                    },
                    "required": [
                        "path"
                    ]
                }
            }
        },
        "systemd": {
            "type": "object",
            "properties": {
                "units": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/systemd/definitions/unit"
                    }
                }
            },
            "definitions": {
                "unit": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "enabled": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "mask": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "contents": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "dropins": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/systemd/definitions/dropin"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "dropin": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "contents": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                }
            }
        },
        "passwd": {
            "type": "object",
            "properties": {
                "users": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/passwd/definitions/user"
                    }
                },
                "groups": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/passwd/definitions/group"
                    }
                }
            },
            "definitions": {
                "user": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "passwordHash": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "sshAuthorizedKeys": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "uid": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "gecos": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "homeDir": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "noCreateHome": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "primaryGroup": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "groups": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "noUserGroup": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "system": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "noLogInit": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "shell": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "group": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "gid": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "passwordHash": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "system": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                }
            }
        }
    }
}


SCHEMA_3_3_0 = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "ignition",
    "type": "object",
    "properties": {
        "ignition": {
            "$ref": "#/definitions/ignition"
        },
        "storage": {
            "$ref": "#/definitions/storage"
        },
        "systemd": {
            "$ref": "#/definitions/systemd"
        },
        "passwd": {
            "$ref": "#/definitions/passwd"
        },
        "kernelArguments": {
            "$ref": "#/definitions/kernelArguments"
        }
    },
    "required": [
        "ignition"
    ],
    "definitions": {
        "resource": {
            "type": "object",
            "properties": {
                "source": {
                    "type": [
                        "string",
                        "null"
                    ]
                },
                "compression": {
                    "type": [
                        "string",
                        "null"
                    ]
                },
                "httpHeaders": {
                    "$ref": "#/definitions/httpHeaders"
                },
                "verification": {
                    "$ref": "#/definitions/verification"
                }
            }
        },
        "verification": {
            "type": "object",
            "properties": {
                "hash": {
                    "type": [
                        "string",
                        "null"
                    ]
                }
            }
        },
        "httpHeaders": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {
                        "type": "string"
                    },
                    "value": {
                        "type": [
                            "string",
                            "null"
                        ]
                    }
                },
                "required": [
                    "name"
                ]
            }
        },
        "ignition": {
            "type": "object",
            "properties": {
                "version": {
                    "type": "string"
                },
                "config": {
                    "$ref": "#/definitions/ignition/definitions/ignition-config"
                },
                "timeouts": {
                    "$ref": "#/definitions/ignition/definitions/timeouts"
                },
                "security": {
                    "$ref": "#/definitions/ignition/definitions/security"
                },
                "proxy": {
                    "$ref": "#/definitions/ignition/definitions/proxy"
                }
            },
            "definitions": {
                "ignition-config": {
                    "type": "object",
                    "properties": {
                        "merge": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/resource"
                            }
                        },
                        "replace": {
                            "$ref": "#/definitions/resource"
                        }
                    }
                },
                "security": {
                    "type": "object",
                    "properties": {
                        "tls": {
                            "type": "object",
                            "properties": {
                                "certificateAuthorities": {
                                    "type": "array",
                                    "items": {
                                        "$ref": "#/definitions/resource"
                                    }
                                }
                            }
                        }
                    }
                },
                "proxy": {
                    "type": "object",
                    "properties": {
                        "httpProxy": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "httpsProxy": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "noProxy": {
                            "type": "array",
                            "items": {
                                "type": [
                                    "string",
                                    "null"
                                ]
                            }
                        }
                    }
                },
                "timeouts": {
                    "type": "object",
                    "properties": {
                        "httpResponseHeaders": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "httpTotal": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        }
                    }
                }
            }
        },
        "storage": {
            "type": "object",
            "properties": {
                "disks": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/disk"
                    }
                },
                "raid": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/raid"
                    }
                },
                "luks": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/luks"
                    }
                },
                "filesystems": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/filesystem"
                    }
                },
                "files": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/file"
                    }
                },
                "directories": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/directory"
                    }
                },
                "links": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/link"
                    }
                }
            },
            "definitions": {
                "disk": {
                    "type": "object",
                    "properties": {
                        "device": {
                            "type": "string"
                        },
                        "wipeTable": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "partitions": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/storage/definitions/partition"
                            }
                        }
                    },
                    "required": [
                        "device"
                    ]
                },
                "raid": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "level": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "spares": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "devices": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "luks": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "uuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "device": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "keyFile": {
                            "$ref": "#/definitions/resource"
                        },
                        "wipeVolume": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "clevis": {
                            "$ref": "#/definitions/storage/definitions/clevis"
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "clevis": {
                    "type": "object",
                    "properties": {
                        "custom": {
                            "$ref": "#/definitions/storage/definitions/clevisCustom"
                        },
                        "tpm2": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "tang": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/storage/definitions/tang"
                            }
                        },
                        "threshold": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        }
                    }
                },
                "clevisCustom": {
                    "type": "object",
                    "properties": {
                        "pin": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "config": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "needsNetwork": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    }
                },
                "tang": {
                    "type": "object",
                    "properties": {
                        "url": {
                            "type": "string"
                        },
                        "thumbprint": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    }
                },
                "filesystem": {
                    "type": "object",
                    "properties": {
                        "path": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "device": {
                            "type": "string"
                        },
                        "format": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "mountOptions": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "wipeFilesystem": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "uuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "device"
                    ]
                },
                "file": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "mode": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "contents": {
                                    "$ref": "#/definitions/resource"
                                },
                                "append": {
                                    "type": "array",
                                    "items": {
                                        "$ref": "#/definitions/resource"
                                    }
                                }
                            }
                        }
                    ]
                },
                "directory": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "mode": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                }
                            }
                        }
                    ]
                },
                "link": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "target": {
                                    "type": [
                                        "string",
                                        "null"
                                    ]
                                },
                                "hard": {
                                    "type": [
                                        "boolean",
                                        "null"
                                    ]
                                }
                            }
                        }
                    ]
                },
                "partition": {
                    "type": "object",
                    "properties": {
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "number": {
                            "type": "integer"
                        },
                        "sizeMiB": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "startMiB": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "typeGuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "guid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "wipePartitionEntry": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "shouldExist": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "resize": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    }
                },
                "node": {
                    "type": "object",
                    "properties": {
                        "path": {
                            "type": "string"
                        },
                        "overwrite": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "user": {
                            "type": "object",
                            "properties": {
                                "id": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "name": {
                                    "type": [
                                        "string",
                                        "null"
                                    ]
                                }
                            }
                        },
                        "group": {
                            "type": "object",
                            "properties": {
                                "id": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "name": {
                                    "type": [
                                        "string",
                                        "null"
                                    ]
                                }
                            }
                        }
                    },
                    "required": [
                        "path"
                    ]
                }
            }
        },
        "systemd": {
            "type": "object",
            "properties": {
                "units": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/systemd/definitions/unit"
                    }
                }
            },
            "definitions": {
                "unit": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "enabled": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "mask": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "contents": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "dropins": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/systemd/definitions/dropin"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "dropin": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "contents": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                }
            }
        },
        "kernelArguments": {
            "type": "object",
            "properties": {
                "shouldExist": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/kernelArgument"
                    }
                },
                "shouldNotExist": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/kernelArgument"
                    }
                }
            }
        },
        "kernelArgument": {
            "type": "string"
        },
        "passwd": {
            "type": "object",
            "properties": {
                "users": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/passwd/definitions/user"
                    }
                },
                "groups": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/passwd/definitions/group"
                    }
                }
            },
            "definitions": {
                "user": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "passwordHash": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "sshAuthorizedKeys": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "uid": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "gecos": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "homeDir": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "noCreateHome": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "primaryGroup": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "groups": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "noUserGroup": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "system": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "noLogInit": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "shell": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "shouldExist": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "group": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "gid": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "passwordHash": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "system": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "shouldExist": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                }
            }
        }
    }
}


SCHEMA_3_4_0 = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "ignition",
    "type": "object",
    "properties": {
        "ignition": {
            "$ref": "#/definitions/ignition"
        },
        "storage": {
            "$ref": "#/definitions/storage"
        },
        "systemd": {
            "$ref": "#/definitions/systemd"
        },
        "passwd": {
            "$ref": "#/definitions/passwd"
        },
        "kernelArguments": {
            "$ref": "#/definitions/kernelArguments"
        }
    },
    "required": [
        "ignition"
    ],
    "definitions": {
        "resource": {
            "type": "object",
            "properties": {
                "source": {
                    "type": [
                        "string",
                        "null"
                    ]
                },
                "compression": {
                    "type": [
                        "string",
                        "null"
                    ]
                },
                "httpHeaders": {
                    "$ref": "#/definitions/httpHeaders"
                },
                "verification": {
                    "$ref": "#/definitions/verification"
                }
            }
        },
        "verification": {
            "type": "object",
            "properties": {
                "hash": {
                    "type": [
                        "string",
                        "null"
                    ]
                }
            }
        },
        "httpHeaders": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {
                        "type": "string"
                    },
                    "value": {
                        "type": [
                            "string",
                            "null"
                        ]
                    }
                },
                "required": [
                    "name"
                ]
            }
        },
        "ignition": {
            "type": "object",
            "properties": {
                "version": {
                    "type": "string"
                },
                "config": {
                    "$ref": "#/definitions/ignition/definitions/ignition-config"
                },
                "timeouts": {
                    "$ref": "#/definitions/ignition/definitions/timeouts"
                },
                "security": {
                    "$ref": "#/definitions/ignition/definitions/security"
                },
                "proxy": {
                    "$ref": "#/definitions/ignition/definitions/proxy"
                }
            },
            "definitions": {
                "ignition-config": {
                    "type": "object",
                    "properties": {
                        "merge": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/resource"
                            }
                        },
                        "replace": {
                            "$ref": "#/definitions/resource"
                        }
                    }
                },
                "security": {
                    "type": "object",
                    "properties": {
                        "tls": {
                            "type": "object",
                            "properties": {
                                "certificateAuthorities": {
                                    "type": "array",
                                    "items": {
                                        "$ref": "#/definitions/resource"
                                    }
                                }
                            }
                        }
                    }
                },
                "proxy": {
                    "type": "object",
                    "properties": {
                        "httpProxy": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "httpsProxy": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "noProxy": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        }
                    }
                },
                "timeouts": {
                    "type": "object",
                    "properties": {
                        "httpResponseHeaders": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "httpTotal": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        }
                    }
                }
            },
            "required": [
                "version"
            ]
        },
        "storage": {
            "type": "object",
            "properties": {
                "disks": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/disk"
                    }
                },
                "raid": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/raid"
                    }
                },
                "luks": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/luks"
                    }
                },
                "filesystems": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/filesystem"
                    }
                },
                "files": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/file"
                    }
                },
                "directories": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/directory"
                    }
                },
                "links": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/link"
                    }
                }
            },
            "definitions": {
                "disk": {
                    "type": "object",
                    "properties": {
                        "device": {
                            "type": "string"
                        },
                        "wipeTable": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "partitions": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/storage/definitions/partition"
                            }
                        }
                    },
                    "required": [
                        "device"
                    ]
                },
                "raid": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "level": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "spares": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "devices": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "luks": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "uuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "device": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "keyFile": {
                            "$ref": "#/definitions/resource"
                        },
                        "wipeVolume": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "clevis": {
                            "$ref": "#/definitions/storage/definitions/clevis"
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "discard": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "openOptions": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "clevis": {
                    "type": "object",
                    "properties": {
                        "custom": {
                            "$ref": "#/definitions/storage/definitions/clevisCustom"
                        },
                        "tpm2": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "tang": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/storage/definitions/tang"
                            }
                        },
                        "threshold": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        }
                    }
                },
                "clevisCustom": {
                    "type": "object",
                    "properties": {
                        "pin": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "config": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "needsNetwork": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    }
                },
                "tang": {
                    "type": "object",
                    "properties": {
                        "url": {
                            "type": "string"
                        },
                        "thumbprint": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "advertisement": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    }
                },
                "filesystem": {
                    "type": "object",
                    "properties": {
                        "path": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "device": {
                            "type": "string"
                        },
                        "format": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "mountOptions": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "wipeFilesystem": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "uuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "device"
                    ]
                },
                "file": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "mode": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "contents": {
                                    "$ref": "#/definitions/resource"
                                },
                                "append": {
                                    "type": "array",
                                    "items": {
                                        "$ref": "#/definitions/resource"
                                    }
                                }
                            }
                        }
                    ]
                },
                "directory": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "mode": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                }
                            }
                        }
                    ]
                },
                "link": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "target": {
                                    "type": [
                                        "string",
                                        "null"
                                    ]
                                },
                                "hard": {
                                    "type": [
                                        "boolean",
                                        "null"
                                    ]
                                }
                            }
                        }
                    ]
                },
                "partition": {
                    "type": "object",
                    "properties": {
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "number": {
                            "type": "integer"
                        },
                        "sizeMiB": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "startMiB": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "typeGuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "guid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "wipePartitionEntry": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "shouldExist": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "resize": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    }
                },
                "node": {
                    "type": "object",
                    "properties": {
                        "path": {
                            "type": "string"
                        },
                        "overwrite": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "user": {
                            "type": "object",
                            "properties": {
                                "id": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "name": {
                                    "type": [
                                        "string",
                                        "null"
                                    ]
                                }
                            }
                        },
                        "group": {
                            "type": "object",
                            "properties": {
                                "id": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "name": {
                                    "type": [
                                        "string",
                                        "null"
                                    ]
                                }
                            }
                        }
                    },
                    "required": [
                        "path"
                    ]
                }
            }
        },
        "systemd": {
            "type": "object",
            "properties": {
                "units": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/systemd/definitions/unit"
                    }
                }
            },
            "definitions": {
                "unit": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "enabled": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "mask": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "contents": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "dropins": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/systemd/definitions/dropin"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "dropin": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "contents": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                }
            }
        },
        "kernelArguments": {
            "type": "object",
            "properties": {
                "shouldExist": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/kernelArgument"
                    }
                },
                "shouldNotExist": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/kernelArgument"
                    }
                }
            }
        },
        "kernelArgument": {
            "type": "string"
        },
        "passwd": {
            "type": "object",
            "properties": {
                "users": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/passwd/definitions/user"
                    }
                },
                "groups": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/passwd/definitions/group"
                    }
                }
            },
            "definitions": {
                "user": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "passwordHash": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "sshAuthorizedKeys": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "uid": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "gecos": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "homeDir": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "noCreateHome": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "primaryGroup": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "groups": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "noUserGroup": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "system": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "noLogInit": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "shell": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "shouldExist": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "group": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "gid": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "passwordHash": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "system": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "shouldExist": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                }
            }
        }
    }
}


SCHEMA_3_5_0 = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "ignition",
    "type": "object",
    "properties": {
        "ignition": {
            "$ref": "#/definitions/ignition"
        },
        "storage": {
            "$ref": "#/definitions/storage"
        },
        "systemd": {
            "$ref": "#/definitions/systemd"
        },
        "passwd": {
            "$ref": "#/definitions/passwd"
        },
        "kernelArguments": {
            "$ref": "#/definitions/kernelArguments"
        }
    },
    "required": [
        "ignition"
    ],
    "definitions": {
        "resource": {
            "type": "object",
            "properties": {
                "source": {
                    "type": [
                        "string",
                        "null"
                    ]
                },
                "compression": {
                    "type": [
                        "string",
                        "null"
                    ]
                },
                "httpHeaders": {
                    "$ref": "#/definitions/httpHeaders"
                },
                "verification": {
                    "$ref": "#/definitions/verification"
                }
            }
        },
        "verification": {
            "type": "object",
            "properties": {
                "hash": {
                    "type": [
                        "string",
                        "null"
                    ]
                }
            }
        },
        "httpHeaders": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {
                        "type": "string"
                    },
                    "value": {
                        "type": [
                            "string",
                            "null"
                        ]
                    }
                },
                "required": [
                    "name"
                ]
            }
        },
        "ignition": {
            "type": "object",
            "properties": {
                "version": {
                    "type": "string"
                },
                "config": {
                    "$ref": "#/definitions/ignition/definitions/ignition-config"
                },
                "timeouts": {
                    "$ref": "#/definitions/ignition/definitions/timeouts"
                },
                "security": {
                    "$ref": "#/definitions/ignition/definitions/security"
                },
                "proxy": {
                    "$ref": "#/definitions/ignition/definitions/proxy"
                }
            },
            "definitions": {
                "ignition-config": {
                    "type": "object",
                    "properties": {
                        "merge": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/resource"
                            }
                        },
                        "replace": {
                            "$ref": "#/definitions/resource"
                        }
                    }
                },
                "security": {
                    "type": "object",
                    "properties": {
                        "tls": {
                            "type": "object",
                            "properties": {
                                "certificateAuthorities": {
                                    "type": "array",
                                    "items": {
                                        "$ref": "#/definitions/resource"
                                    }
                                }
                            }
                        }
                    }
                },
                "proxy": {
                    "type": "object",
                    "properties": {
                        "httpProxy": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "httpsProxy": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "noProxy": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        }
                    }
                },
                "timeouts": {
                    "type": "object",
                    "properties": {
                        "httpResponseHeaders": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "httpTotal": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        }
                    }
                }
            },
            "required": [
                "version"
            ]
        },
        "storage": {
            "type": "object",
            "properties": {
                "disks": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/disk"
                    }
                },
                "raid": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/raid"
                    }
                },
                "luks": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/luks"
                    }
                },
                "filesystems": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/filesystem"
                    }
                },
                "files": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/file"
                    }
                },
                "directories": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/directory"
                    }
                },
                "links": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/storage/definitions/link"
                    }
                }
            },
            "definitions": {
                "disk": {
                    "type": "object",
                    "properties": {
                        "device": {
                            "type": "string"
                        },
                        "wipeTable": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "partitions": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/storage/definitions/partition"
                            }
                        }
                    },
                    "required": [
                        "device"
                    ]
                },
                "raid": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "level": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "spares": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "devices": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "luks": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "uuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "device": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "keyFile": {
                            "$ref": "#/definitions/resource"
                        },
                        "wipeVolume": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "clevis": {
                            "$ref": "#/definitions/storage/definitions/clevis"
                        },
                        "cex": {
                            "$ref": "#/definitions/storage/definitions/cex"
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "discard": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "openOptions": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "clevis": {
                    "type": "object",
                    "properties": {
                        "custom": {
                            "$ref": "#/definitions/storage/definitions/clevisCustom"
                        },
                        "tpm2": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "tang": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/storage/definitions/tang"
                            }
                        },
                        "threshold": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        }
                    }
                },
                "clevisCustom": {
                    "type": "object",
                    "properties": {
                        "pin": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "config": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "needsNetwork": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    }
                },
                "tang": {
                    "type": "object",
                    "properties": {
                        "url": {
                            "type": "string"
                        },
                        "thumbprint": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "advertisement": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    }
                },
                "cex": {
                    "type": "object",
                    "properties": {
                        "enabled": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    }
                },
                "filesystem": {
                    "type": "object",
                    "properties": {
                        "path": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "device": {
                            "type": "string"
                        },
                        "format": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "mountOptions": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "wipeFilesystem": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "uuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "device"
                    ]
                },
                "file": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "mode": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "contents": {
                                    "$ref": "#/definitions/resource"
                                },
                                "append": {
                                    "type": "array",
                                    "items": {
                                        "$ref": "#/definitions/resource"
                                    }
                                }
                            }
                        }
                    ]
                },
                "directory": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "mode": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                }
                            }
                        }
                    ]
                },
                "link": {
                    "allOf": [
                        {
                            "$ref": "#/definitions/storage/definitions/node"
                        },
                        {
                            "type": "object",
                            "properties": {
                                "target": {
                                    "type": [
                                        "string",
                                        "null"
                                    ]
                                },
                                "hard": {
                                    "type": [
                                        "boolean",
                                        "null"
                                    ]
                                }
                            }
                        }
                    ]
                },
                "partition": {
                    "type": "object",
                    "properties": {
                        "label": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "number": {
                            "type": "integer"
                        },
                        "sizeMiB": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "startMiB": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "typeGuid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "guid": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "wipePartitionEntry": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "shouldExist": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "resize": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    }
                },
                "node": {
                    "type": "object",
                    "properties": {
                        "path": {
                            "type": "string"
                        },
                        "overwrite": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "user": {
                            "type": "object",
                            "properties": {
                                "id": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "name": {
                                    "type": [
                                        "string",
                                        "null"
                                    ]
                                }
                            }
                        },
                        "group": {
                            "type": "object",
                            "properties": {
                                "id": {
                                    "type": [
                                        "integer",
                                        "null"
                                    ]
                                },
                                "name": {
                                    "type": [
                                        "string",
                                        "null"
                                    ]
                                }
                            }
                        }
                    },
                    "required": [
                        "path"
                    ]
                }
            }
        },
        "systemd": {
            "type": "object",
            "properties": {
                "units": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/systemd/definitions/unit"
                    }
                }
            },
            "definitions": {
                "unit": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "enabled": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "mask": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "contents": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "dropins": {
                            "type": "array",
                            "items": {
                                "$ref": "#/definitions/systemd/definitions/dropin"
                            }
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "dropin": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "contents": {
                            "type": [
                                "string",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                }
            }
        },
        "kernelArguments": {
            "type": "object",
            "properties": {
                "shouldExist": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/kernelArgument"
                    }
                },
                "shouldNotExist": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/kernelArgument"
                    }
                }
            }
        },
        "kernelArgument": {
            "type": "string"
        },
        "passwd": {
            "type": "object",
            "properties": {
                "users": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/passwd/definitions/user"
                    }
                },
                "groups": {
                    "type": "array",
                    "items": {
                        "$ref": "#/definitions/passwd/definitions/group"
                    }
                }
            },
            "definitions": {
                "user": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "passwordHash": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "sshAuthorizedKeys": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "uid": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "gecos": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "homeDir": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "noCreateHome": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "primaryGroup": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "groups": {
                            "type": "array",
                            "items": {
                                "type": "string"
                            }
                        },
                        "noUserGroup": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "system": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "noLogInit": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "shell": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "shouldExist": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                },
                "group": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string"
                        },
                        "gid": {
                            "type": [
                                "integer",
                                "null"
                            ]
                        },
                        "passwordHash": {
                            "type": [
                                "string",
                                "null"
                            ]
                        },
                        "system": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        },
                        "shouldExist": {
                            "type": [
                                "boolean",
                                "null"
                            ]
                        }
                    },
                    "required": [
                        "name"
                    ]
                }
            }
        }
    }
}


SCHEMAS = {
    "2.3.0": SCHEMA_2_3_0,
    "3.0.0": SCHEMA_3_0_0,
    "3.3.0": SCHEMA_3_3_0,
    "3.4.0": SCHEMA_3_4_0,
    "3.5.0": SCHEMA_3_5_0,
}
