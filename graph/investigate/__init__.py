"""Investigators' traversals, one module per question, and the ownership arithmetic.

Exposure to sanctioned subjects, shared-identifier rings, the upstream holding graph and who
controls a company, the network around a node, the shortest paths between subjects and the
subgraph connecting a set of them.

Every query takes the caller's read scope (policies/access.py) and keeps subjects the caller
may not read off the paths it returns. Value nodes (phones, addresses, e-mails) shared by more
than the exposure rules' ``hub_degree`` are hubs: reported, never crossed. Depth bounds are
validated integers put into fixed query templates; nothing from the caller is spliced in.
"""
