(define (problem plan_look_at_obj_in_light-Book-None-DeskLamp-bedroom2)
(:domain alfred)
(:objects
agent1 - agent
        AlarmClockType - otype
        BookType - otype
        ButterKnifeType - otype
        CDType - otype
        DeskLampType - otype
        KnifeType - otype
        LaptopType - otype
        PencilType - otype
        PillowType - otype
        WatchType - otype
        BedType - rtype
        DeskType - rtype
        DrawerType - rtype
        DresserType - rtype
        FridgeType - rtype
        GarbageCanType - rtype
        MicrowaveType - rtype
        ShelfType - rtype
        SideTableType - rtype
        SinkBasinType - rtype
        Book_bar__plus_07_dot_84_bar__plus_01_dot_00_bar__plus_07_dot_10 - object
        Pillow_bar__plus_08_dot_43_bar__plus_00_dot_90_bar__plus_07_dot_53 - object
        Laptop_bar__plus_08_dot_80_bar__plus_00_dot_95_bar__plus_07_dot_96 - object
        Pencil_bar__plus_09_dot_17_bar__plus_01_dot_00_bar__plus_08_dot_39 - object
        AlarmClock_bar__plus_09_dot_98_bar__plus_00_dot_90_bar__plus_08_dot_82 - object
        DeskLamp_bar__plus_10_dot_13_bar__plus_00_dot_95_bar__plus_09_dot_25 - object
        CD_bar__plus_09_dot_84_bar__plus_01_dot_00_bar__plus_09_dot_68 - object
        Watch_bar__plus_10_dot_54_bar__plus_00_dot_90_bar__plus_10_dot_11 - object
        Bed_bar__plus_00_dot_33_bar__plus_00_dot_90_bar__minus_01_dot_50 - receptacle
        Desk_bar__plus_00_dot_81_bar__plus_00_dot_95_bar__minus_01_dot_07 - receptacle
        Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64 - receptacle
        SideTable_bar__plus_02_dot_10_bar__plus_00_dot_90_bar__minus_00_dot_21 - receptacle
        SideTable_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22 - receptacle
        Shelf_bar__plus_02_dot_40_bar__plus_01_dot_00_bar__plus_00_dot_65 - receptacle
        GarbageCan_bar__plus_03_dot_32_bar__plus_00_dot_90_bar__plus_01_dot_08 - receptacle
        Dresser_bar__plus_03_dot_36_bar__plus_00_dot_95_bar__plus_01_dot_51 - receptacle
        loc_bar_0_bar_6_bar_3_bar__minus_15 - location
        loc_bar_0_bar__minus_4_bar_0_bar__minus_30 - location
        loc_bar_1_bar__minus_1_bar_1_bar__minus_15 - location
        loc_bar_2_bar_2_bar_2_bar_0 - location
        loc_bar_3_bar_5_bar_3_bar_15 - location
        loc_bar_4_bar__minus_3_bar_0_bar_30 - location
        loc_bar_5_bar_0_bar_1_bar_45 - location
        loc_bar_6_bar_3_bar_2_bar__minus_30 - location
        loc_bar__minus_1_bar_5_bar_0_bar_30 - location
        )

(:init

        (receptacleType Bed_bar__plus_00_dot_33_bar__plus_00_dot_90_bar__minus_01_dot_50 BedType)
        (receptacleType Desk_bar__plus_00_dot_81_bar__plus_00_dot_95_bar__minus_01_dot_07 DeskType)
        (receptacleType Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64 DrawerType)
        (receptacleType SideTable_bar__plus_02_dot_10_bar__plus_00_dot_90_bar__minus_00_dot_21 SideTableType)
        (receptacleType SideTable_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22 SideTableType)
        (receptacleType Shelf_bar__plus_02_dot_40_bar__plus_01_dot_00_bar__plus_00_dot_65 ShelfType)
        (receptacleType GarbageCan_bar__plus_03_dot_32_bar__plus_00_dot_90_bar__plus_01_dot_08 GarbageCanType)
        (receptacleType Dresser_bar__plus_03_dot_36_bar__plus_00_dot_95_bar__plus_01_dot_51 DresserType)
        (objectType Book_bar__plus_07_dot_84_bar__plus_01_dot_00_bar__plus_07_dot_10 BookType)
        (objectType Pillow_bar__plus_08_dot_43_bar__plus_00_dot_90_bar__plus_07_dot_53 PillowType)
        (objectType Laptop_bar__plus_08_dot_80_bar__plus_00_dot_95_bar__plus_07_dot_96 LaptopType)
        (objectType Pencil_bar__plus_09_dot_17_bar__plus_01_dot_00_bar__plus_08_dot_39 PencilType)
        (objectType AlarmClock_bar__plus_09_dot_98_bar__plus_00_dot_90_bar__plus_08_dot_82 AlarmClockType)
        (objectType DeskLamp_bar__plus_10_dot_13_bar__plus_00_dot_95_bar__plus_09_dot_25 DeskLampType)
        (objectType CD_bar__plus_09_dot_84_bar__plus_01_dot_00_bar__plus_09_dot_68 CDType)
        (objectType Watch_bar__plus_10_dot_54_bar__plus_00_dot_90_bar__plus_10_dot_11 WatchType)
        (canContain BedType BookType)
        (canContain BedType LaptopType)
        (canContain BedType PillowType)
        (canContain DeskType AlarmClockType)
        (canContain DeskType BookType)
        (canContain DeskType CDType)
        (canContain DeskType LaptopType)
        (canContain DeskType PencilType)
        (canContain DeskType WatchType)
        (canContain DrawerType BookType)
        (canContain DrawerType CDType)
        (canContain DrawerType PencilType)
        (canContain DrawerType WatchType)
        (canContain DresserType AlarmClockType)
        (canContain DresserType BookType)
        (canContain DresserType CDType)
        (canContain DresserType LaptopType)
        (canContain DresserType PencilType)
        (canContain DresserType WatchType)
        (canContain GarbageCanType CDType)
        (canContain GarbageCanType PencilType)
        (canContain ShelfType AlarmClockType)
        (canContain ShelfType BookType)
        (canContain ShelfType CDType)
        (canContain ShelfType PencilType)
        (canContain ShelfType WatchType)
        (canContain SideTableType AlarmClockType)
        (canContain SideTableType BookType)
        (canContain SideTableType CDType)
        (canContain SideTableType LaptopType)
        (canContain SideTableType PencilType)
        (canContain SideTableType WatchType)
        (pickupable Book_bar__plus_07_dot_84_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (pickupable Pillow_bar__plus_08_dot_43_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (pickupable Laptop_bar__plus_08_dot_80_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (pickupable Pencil_bar__plus_09_dot_17_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (pickupable AlarmClock_bar__plus_09_dot_98_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (pickupable CD_bar__plus_09_dot_84_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (pickupable Watch_bar__plus_10_dot_54_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (openable Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (atLocation agent1 loc_bar__minus_1_bar_5_bar_0_bar_30)
        (toggleable DeskLamp_bar__plus_10_dot_13_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (inReceptacle Book_bar__plus_07_dot_84_bar__plus_01_dot_00_bar__plus_07_dot_10 Bed_bar__plus_00_dot_33_bar__plus_00_dot_90_bar__minus_01_dot_50)
        (inReceptacle Pillow_bar__plus_08_dot_43_bar__plus_00_dot_90_bar__plus_07_dot_53 Bed_bar__plus_00_dot_33_bar__plus_00_dot_90_bar__minus_01_dot_50)
        (inReceptacle Laptop_bar__plus_08_dot_80_bar__plus_00_dot_95_bar__plus_07_dot_96 Desk_bar__plus_00_dot_81_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (inReceptacle Pencil_bar__plus_09_dot_17_bar__plus_01_dot_00_bar__plus_08_dot_39 Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (inReceptacle AlarmClock_bar__plus_09_dot_98_bar__plus_00_dot_90_bar__plus_08_dot_82 SideTable_bar__plus_02_dot_10_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (inReceptacle DeskLamp_bar__plus_10_dot_13_bar__plus_00_dot_95_bar__plus_09_dot_25 SideTable_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22)
        (inReceptacle CD_bar__plus_09_dot_84_bar__plus_01_dot_00_bar__plus_09_dot_68 Shelf_bar__plus_02_dot_40_bar__plus_01_dot_00_bar__plus_00_dot_65)
        (inReceptacle Watch_bar__plus_10_dot_54_bar__plus_00_dot_90_bar__plus_10_dot_11 Dresser_bar__plus_03_dot_36_bar__plus_00_dot_95_bar__plus_01_dot_51)
        (receptacleAtLocation Bed_bar__plus_00_dot_33_bar__plus_00_dot_90_bar__minus_01_dot_50 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (receptacleAtLocation Desk_bar__plus_00_dot_81_bar__plus_00_dot_95_bar__minus_01_dot_07 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (receptacleAtLocation Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64 loc_bar_2_bar_2_bar_2_bar_0)
        (receptacleAtLocation SideTable_bar__plus_02_dot_10_bar__plus_00_dot_90_bar__minus_00_dot_21 loc_bar_3_bar_5_bar_3_bar_15)
        (receptacleAtLocation SideTable_bar__plus_02_dot_47_bar__plus_00_dot_95_bar__plus_00_dot_22 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (receptacleAtLocation Shelf_bar__plus_02_dot_40_bar__plus_01_dot_00_bar__plus_00_dot_65 loc_bar_5_bar_0_bar_1_bar_45)
        (receptacleAtLocation GarbageCan_bar__plus_03_dot_32_bar__plus_00_dot_90_bar__plus_01_dot_08 loc_bar_6_bar_3_bar_2_bar__minus_30)
        (receptacleAtLocation Dresser_bar__plus_03_dot_36_bar__plus_00_dot_95_bar__plus_01_dot_51 loc_bar_0_bar_6_bar_3_bar__minus_15)
        (objectAtLocation Book_bar__plus_07_dot_84_bar__plus_01_dot_00_bar__plus_07_dot_10 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (objectAtLocation Pillow_bar__plus_08_dot_43_bar__plus_00_dot_90_bar__plus_07_dot_53 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (objectAtLocation Laptop_bar__plus_08_dot_80_bar__plus_00_dot_95_bar__plus_07_dot_96 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (objectAtLocation Pencil_bar__plus_09_dot_17_bar__plus_01_dot_00_bar__plus_08_dot_39 loc_bar_2_bar_2_bar_2_bar_0)
        (objectAtLocation AlarmClock_bar__plus_09_dot_98_bar__plus_00_dot_90_bar__plus_08_dot_82 loc_bar_3_bar_5_bar_3_bar_15)
        (objectAtLocation DeskLamp_bar__plus_10_dot_13_bar__plus_00_dot_95_bar__plus_09_dot_25 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (objectAtLocation CD_bar__plus_09_dot_84_bar__plus_01_dot_00_bar__plus_09_dot_68 loc_bar_5_bar_0_bar_1_bar_45)
        (objectAtLocation Watch_bar__plus_10_dot_54_bar__plus_00_dot_90_bar__plus_10_dot_11 loc_bar_0_bar_6_bar_3_bar__minus_15)
        )

        (:goal
             (and
                 (exists (?ot - object
                          ?r - receptacle
                          ?a - agent
                          ?l - location)
                     (and
                         (objectType ?ot DeskLampType)
                         (toggleable ?ot)
                         (isToggled ?ot)
                         (receptacleAtLocation ?r ?l)
                         (atLocation ?a ?l)
                         (inReceptacle ?ot ?r)
                     )
                 )
                 (exists (?o - object
                          ?a - agent)
                     (and
                         (objectType ?o BookType)
                         (holds ?a ?o)
                     )
                 )
             )
        )
    )
