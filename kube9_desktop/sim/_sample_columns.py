"""Table column definitions copied verbatim from a real kube-apiserver v1.19 (see apiserver-samples)."""

from typing import Any

POD_COLUMNS: list[dict[str, Any]] = [
    {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": (
            "Name must be unique within a namespace. Is required when creating resources, although some"
            " resources may allow a client to request the generation of an appropriate name automatical"
            "ly. Name is primarily intended for creation idempotence and configuration definition. Cann"
            "ot be updated. More info: http://kubernetes.io/docs/user-guide/identifiers#names"
        ),
        "priority": 0,
    },
    {
        "name": "Ready",
        "type": "string",
        "format": "",
        "description": ("The aggregate readiness state of this pod for accepting traffic."),
        "priority": 0,
    },
    {
        "name": "Status",
        "type": "string",
        "format": "",
        "description": ("The aggregate status of the containers in this pod."),
        "priority": 0,
    },
    {
        "name": "Restarts",
        "type": "integer",
        "format": "",
        "description": ("The number of times the containers in this pod have been restarted."),
        "priority": 0,
    },
    {
        "name": "Age",
        "type": "string",
        "format": "",
        "description": (
            "CreationTimestamp is a timestamp representing the server time when this object was created"
            ". It is not guaranteed to be set in happens-before order across separate operations. Clien"
            "ts may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by "
            "the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributor"
            "s/devel/sig-architecture/api-conventions.md#metadata"
        ),
        "priority": 0,
    },
    {
        "name": "IP",
        "type": "string",
        "format": "",
        "description": (
            "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
        ),
        "priority": 1,
    },
    {
        "name": "Node",
        "type": "string",
        "format": "",
        "description": (
            "NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the s"
            "cheduler simply schedules this pod onto that node, assuming that it fits resource requirem"
            "ents."
        ),
        "priority": 1,
    },
    {
        "name": "Nominated Node",
        "type": "string",
        "format": "",
        "description": (
            "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot"
            " be scheduled right away as preemption victims receive their graceful termination periods."
            " This field does not guarantee that the pod will be scheduled on this node. Scheduler may "
            "decide to place the pod elsewhere if other nodes become available sooner. Scheduler may al"
            "so decide to give the resources on this node to a higher priority pod that is created afte"
            "r preemption. As a result, this field may be different than PodSpec.nodeName when the pod "
            "is scheduled."
        ),
        "priority": 1,
    },
    {
        "name": "Readiness Gates",
        "type": "string",
        "format": "",
        "description": (
            "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when"
            " all its containers are ready AND all conditions specified in the readiness gates have sta"
            'tus equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/0007-pod-r'
            "eady%2B%2B.md"
        ),
        "priority": 1,
    },
]

NODE_COLUMNS: list[dict[str, Any]] = [
    {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": (
            "Name must be unique within a namespace. Is required when creating resources, although some"
            " resources may allow a client to request the generation of an appropriate name automatical"
            "ly. Name is primarily intended for creation idempotence and configuration definition. Cann"
            "ot be updated. More info: http://kubernetes.io/docs/user-guide/identifiers#names"
        ),
        "priority": 0,
    },
    {"name": "Status", "type": "string", "format": "", "description": ("The status of the node"), "priority": 0},
    {"name": "Roles", "type": "string", "format": "", "description": ("The roles of the node"), "priority": 0},
    {
        "name": "Age",
        "type": "string",
        "format": "",
        "description": (
            "CreationTimestamp is a timestamp representing the server time when this object was created"
            ". It is not guaranteed to be set in happens-before order across separate operations. Clien"
            "ts may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by "
            "the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributor"
            "s/devel/sig-architecture/api-conventions.md#metadata"
        ),
        "priority": 0,
    },
    {
        "name": "Version",
        "type": "string",
        "format": "",
        "description": ("Kubelet Version reported by the node."),
        "priority": 0,
    },
    {
        "name": "Internal-IP",
        "type": "string",
        "format": "",
        "description": (
            "List of addresses reachable to the node. Queried from cloud provider, if available. More i"
            "nfo: https://kubernetes.io/docs/concepts/nodes/node/#addresses Note: This field is declare"
            "d as mergeable, but the merge key is not sufficiently unique, which can cause data corrupt"
            "ion when it is merged. Callers should instead use a full-replacement patch. See http://pr."
            "k8s.io/79391 for an example."
        ),
        "priority": 1,
    },
    {
        "name": "External-IP",
        "type": "string",
        "format": "",
        "description": (
            "List of addresses reachable to the node. Queried from cloud provider, if available. More i"
            "nfo: https://kubernetes.io/docs/concepts/nodes/node/#addresses Note: This field is declare"
            "d as mergeable, but the merge key is not sufficiently unique, which can cause data corrupt"
            "ion when it is merged. Callers should instead use a full-replacement patch. See http://pr."
            "k8s.io/79391 for an example."
        ),
        "priority": 1,
    },
    {
        "name": "OS-Image",
        "type": "string",
        "format": "",
        "description": ("OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
        "priority": 1,
    },
    {
        "name": "Kernel-Version",
        "type": "string",
        "format": "",
        "description": ("Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
        "priority": 1,
    },
    {
        "name": "Container-Runtime",
        "type": "string",
        "format": "",
        "description": (
            "ContainerRuntime Version reported by the node through runtime remote API (e.g. docker://1.5.0)."
        ),
        "priority": 1,
    },
]

DEPLOYMENT_COLUMNS: list[dict[str, Any]] = [
    {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": (
            "Name must be unique within a namespace. Is required when creating resources, although some"
            " resources may allow a client to request the generation of an appropriate name automatical"
            "ly. Name is primarily intended for creation idempotence and configuration definition. Cann"
            "ot be updated. More info: http://kubernetes.io/docs/user-guide/identifiers#names"
        ),
        "priority": 0,
    },
    {
        "name": "Ready",
        "type": "string",
        "format": "",
        "description": ("Number of the pod with ready state"),
        "priority": 0,
    },
    {
        "name": "Up-to-date",
        "type": "string",
        "format": "",
        "description": (
            "Total number of non-terminated pods targeted by this deployment that have the desired template spec."
        ),
        "priority": 0,
    },
    {
        "name": "Available",
        "type": "string",
        "format": "",
        "description": (
            "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."
        ),
        "priority": 0,
    },
    {
        "name": "Age",
        "type": "string",
        "format": "",
        "description": (
            "CreationTimestamp is a timestamp representing the server time when this object was created"
            ". It is not guaranteed to be set in happens-before order across separate operations. Clien"
            "ts may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by "
            "the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributor"
            "s/devel/sig-architecture/api-conventions.md#metadata"
        ),
        "priority": 0,
    },
    {
        "name": "Containers",
        "type": "string",
        "format": "",
        "description": ("Names of each container in the template."),
        "priority": 1,
    },
    {
        "name": "Images",
        "type": "string",
        "format": "",
        "description": ("Images referenced by each container in the template."),
        "priority": 1,
    },
    {
        "name": "Selector",
        "type": "string",
        "format": "",
        "description": (
            "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
            "ones affected by this deployment."
        ),
        "priority": 1,
    },
]

CRONJOB_COLUMNS: list[dict[str, Any]] = [
    {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": (
            "Name must be unique within a namespace. Is required when creating resources, although some"
            " resources may allow a client to request the generation of an appropriate name automatical"
            "ly. Name is primarily intended for creation idempotence and configuration definition. Cann"
            "ot be updated. More info: http://kubernetes.io/docs/user-guide/identifiers#names"
        ),
        "priority": 0,
    },
    {
        "name": "Schedule",
        "type": "string",
        "format": "",
        "description": ("The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
        "priority": 0,
    },
    {
        "name": "Suspend",
        "type": "boolean",
        "format": "",
        "description": (
            "This flag tells the controller to suspend subsequent executions, it does not apply to alre"
            "ady started executions.  Defaults to false."
        ),
        "priority": 0,
    },
    {
        "name": "Active",
        "type": "integer",
        "format": "",
        "description": ("A list of pointers to currently running jobs."),
        "priority": 0,
    },
    {
        "name": "Last Schedule",
        "type": "string",
        "format": "",
        "description": ("Information when was the last time the job was successfully scheduled."),
        "priority": 0,
    },
    {
        "name": "Age",
        "type": "string",
        "format": "",
        "description": (
            "CreationTimestamp is a timestamp representing the server time when this object was created"
            ". It is not guaranteed to be set in happens-before order across separate operations. Clien"
            "ts may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by "
            "the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributor"
            "s/devel/sig-architecture/api-conventions.md#metadata"
        ),
        "priority": 0,
    },
    {
        "name": "Containers",
        "type": "string",
        "format": "",
        "description": ("Names of each container in the template."),
        "priority": 1,
    },
    {
        "name": "Images",
        "type": "string",
        "format": "",
        "description": ("Images referenced by each container in the template."),
        "priority": 1,
    },
    {
        "name": "Selector",
        "type": "string",
        "format": "",
        "description": (
            "A label query over pods that should match the pod count. Normally, the system sets this fi"
            "eld for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/"
            "labels/#label-selectors"
        ),
        "priority": 1,
    },
]
